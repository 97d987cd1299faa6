// The fixed contact list (the conformance suite) and static seeds, which
// bootstrapSeeds hands back as configured, with no lookup and no probe.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { realClock } from '@troupe/runtime'
import { bootstrapSeeds } from '../src/discovery/bootstrap-seeds.js'
import type { BootstrapInput } from '../src/discovery/bootstrap-seeds.js'
import { ContactsDiscovery } from '../src/discovery/contacts-discovery.js'
import { createDiscovery } from '../src/discovery/create-discovery.js'
import { isDiscoveryError } from '../src/discovery/discovery-error.js'
import { discoveryConformance } from './discovery-conformance.js'

discoveryConformance('contacts', {
  backend: 'contacts',
  port: 8558,
  dynamic: false,
  setUp: async () => {},
  tearDown: async () => {},
  answering: async (hosts, maxContacts) => new ContactsDiscovery({ contacts: hosts.map((h) => `${h}:8558`), ...(maxContacts !== undefined ? { maxContacts } : {}) }),
})

const base: Omit<BootstrapInput, 'discovery'> = {
  self: { node: 'a', address: 'ws://a' },
  secret: 's',
  clock: realClock,
  timers: { setTimeout: () => assert.unreachable('static seeds need no timer'), clearTimeout: () => {} },
  log: () => {},
  state: () => {
    throw new Error('static seeds need no state')
  },
}

test('static seeds come back as configured, at once', async () => {
  const seeds = [{ node: 'a', address: 'ws://a' }, { node: 'b', address: 'ws://b' }]
  assert.equal(await bootstrapSeeds({ ...base, discovery: { method: 'static', seeds } }), seeds)
})

test('bad static seeds and unknown methods are INVALID_DISCOVERY_CONFIG', async () => {
  for (const discovery of [{ method: 'static', seeds: [{ node: '', address: 'x' }] }, { method: 'static', seeds: 'a,b' }, { method: 'zookeeper' }]) {
    try {
      await bootstrapSeeds({ ...base, discovery: discovery as never })
      assert.unreachable(JSON.stringify(discovery))
    } catch (err) {
      assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'), String(err))
    }
  }
})

test('contacts parse host:port and [v6]:port; anything else is INVALID_DISCOVERY_CONFIG', async () => {
  const d = createDiscovery({ method: 'contacts', contacts: ['node-b.local:8558', '[fd00::1]:9000', 'NODE-A.local:8558'] })
  assert.equal(await d.lookup(), [
    { host: 'fd00::1', port: 9000 },
    { host: 'node-a.local', port: 8558 },
    { host: 'node-b.local', port: 8558 },
  ])
  for (const bad of ['nohost', 'a:0', 'a:99999', ':80', 'fd00::1:80', 'a b:80']) {
    try {
      createDiscovery({ method: 'contacts', contacts: [bad] })
      assert.unreachable(bad)
    } catch (err) {
      assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'), `${bad}: ${String(err)}`)
    }
  }
})

test.run()
