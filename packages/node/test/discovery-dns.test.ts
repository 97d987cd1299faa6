// DNS discovery against a local DNS server the test starts: A, AAAA and SRV
// records of a headless service, answers that change, NXDOMAIN and empty
// answers, SERVFAIL and a silent server, bad configs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DnsDiscovery } from '../src/discovery/dns-discovery.js'
import { isDiscoveryError } from '../src/discovery/discovery-error.js'
import { discoveryConformance } from './discovery-conformance.js'
import type { DiscoveryFixture } from './discovery-conformance.js'
import { TestDnsServer } from './discovery-dns-server.js'

const NAME = 'troupe.default.svc.cluster.test'
const SRV_NAME = '_management._tcp.troupe.default.svc.cluster.test'

/** A fixture per record type; SRV targets are pod names resolved by the same server. */
function dnsFixture(recordType: 'A' | 'SRV'): DiscoveryFixture {
  let dns: TestDnsServer
  return {
    backend: 'dns',
    port: 8558,
    dynamic: true,
    setUp: async () => {
      dns = await TestDnsServer.start()
    },
    tearDown: () => dns.close(),
    answering: async (hosts, maxContacts) => {
      if (recordType === 'A') dns.set('A', NAME, hosts)
      else {
        dns.set('SRV', SRV_NAME, hosts.map((h) => ({ target: `pod-${h.replaceAll('.', '-')}.${NAME}`, port: 8558 })))
        for (const h of hosts) dns.set('A', `pod-${h.replaceAll('.', '-')}.${NAME}`, [h])
      }
      return new DnsDiscovery({
        name: recordType === 'A' ? NAME : SRV_NAME,
        recordType,
        ...(recordType === 'A' ? { port: 8558 } : {}),
        servers: [dns.server],
        timeoutMs: 200,
        tries: 1,
        ...(maxContacts !== undefined ? { maxContacts } : {}),
      })
    },
    failing: (on) => {
      dns.mode = on ? 'servfail' : 'answer'
    },
  }
}

discoveryConformance('dns A', dnsFixture('A'))
discoveryConformance('dns SRV', dnsFixture('SRV'))

let dns: TestDnsServer
test.before(async () => {
  dns = await TestDnsServer.start()
})
test.after(() => dns.close())

const discovery = (config: Partial<ConstructorParameters<typeof DnsDiscovery>[0]> = {}) =>
  new DnsDiscovery({ name: NAME, servers: [dns.server], timeoutMs: 200, tries: 1, ...config })

test('AAAA records with the configured port; IPv6 hosts compare and sort as text', async () => {
  dns.set('AAAA', NAME, ['fd00::2', 'fd00::1'])
  assert.equal(await discovery({ recordType: 'AAAA', port: 9000 }).lookup(), [
    { host: 'fd00::1', port: 9000 },
    { host: 'fd00::2', port: 9000 },
  ])
})

test('SRV: each target with its own port; a target the server does not know stays a host name; AAAA-only targets resolve', async () => {
  dns.set('SRV', SRV_NAME, [
    { target: `a.${NAME}`, port: 8001 },
    { target: `b.${NAME}`, port: 8002 },
    { target: 'elsewhere.example', port: 8003 },
  ])
  dns.set('A', `a.${NAME}`, ['10.0.0.1'])
  dns.set('AAAA', `b.${NAME}`, ['fd00::b'])
  assert.equal(await discovery({ name: SRV_NAME }).lookup(), [
    { host: '10.0.0.1', port: 8001 },
    { host: 'elsewhere.example', port: 8003 },
    { host: 'fd00::b', port: 8002 },
  ])
})

test('NXDOMAIN and a name without records of the type are empty answers', async () => {
  assert.equal(await discovery({ name: 'nobody.cluster.test', port: 1 }).lookup(), [])
  dns.set('AAAA', 'v6only.cluster.test', ['fd00::1'])
  assert.equal(await discovery({ name: 'v6only.cluster.test', port: 1 }).lookup(), [])
})

test('a silent server and an unreachable one are DISCOVERY_FAILED after the resolver timeout', async () => {
  dns.mode = 'silent'
  try {
    await discovery({ port: 1 }).lookup()
    assert.unreachable()
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'DISCOVERY_FAILED'), String(err))
    assert.match((err as Error).message, /^dns: resolving troupe\.default/)
  } finally {
    dns.mode = 'answer'
  }
})

test('an aborted lookup rejects at once with a typed error', async () => {
  dns.mode = 'silent'
  const controller = new AbortController()
  const pending = discovery({ port: 1, timeoutMs: 5000 }).lookup(controller.signal)
  controller.abort()
  try {
    await pending
    assert.unreachable()
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'DISCOVERY_FAILED'), String(err))
  } finally {
    dns.mode = 'answer'
  }
})

test('bad configs are INVALID_DISCOVERY_CONFIG at construction', () => {
  const bad = [{ recordType: 'A' as const }, { port: 0 }, { port: 70000 }, { name: '' }, { port: 1, servers: ['not an address'] }]
  for (const b of bad) {
    try {
      discovery(b)
      assert.unreachable(JSON.stringify(b))
    } catch (err) {
      assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'), `${JSON.stringify(b)}: ${String(err)}`)
    }
  }
})

test.run()
