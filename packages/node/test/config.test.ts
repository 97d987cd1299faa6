// A NodeConfig from code, environment variables and a JSON file: the same
// typed config, and every bad value a TroupeError INVALID_ARGUMENT naming
// the field (or variable, or key).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isTroupeError } from '@troupe/runtime'
import { configFromEnv, configFromFile, startNode } from '../src/index.js'
import type { NodeConfig } from '../src/index.js'
import { Counter, SECRET } from './helpers.js'

function invalidArgument(fn: () => unknown, field: string | RegExp): void {
  try {
    fn()
  } catch (err) {
    assert.ok(isTroupeError(err, 'INVALID_ARGUMENT'), String(err))
    assert.match((err as Error).message, field)
    return
  }
  assert.unreachable(`expected INVALID_ARGUMENT about ${field}`)
}

const ENV = {
  TROUPE_NODE: 'n1',
  TROUPE_HOST: '0.0.0.0',
  TROUPE_PORT: '7301',
  TROUPE_ADVERTISE: 'n1.internal',
  TROUPE_SECRET: SECRET,
  TROUPE_SEEDS: 'n1=ws://n1.internal:7301, n2=ws://n2.internal:7301',
  TROUPE_DATA_DIR: '/var/lib/troupe',
  TROUPE_HTTP_PORT: '8301',
  TROUPE_OPERATOR_TOKENS: 'reader-token-0123456789:read,admin-token-0123456789:admin',
  TROUPE_APP_VERSION: '1.2.3',
  TROUPE_ROLES: 'frontend,backend',
  TROUPE_METADATA: 'zone=eu-1,rack=r7',
  TROUPE_RAFT_MEMBERS: 'n1,n2',
}

test('configFromEnv maps every TROUPE_* variable onto the typed config, over a base from code', () => {
  const base: Partial<NodeConfig> = { services: { sharding: { entities: [Counter] } }, http: { port: 1 } }
  const c = configFromEnv(ENV, base)
  assert.equal(c.name, 'n1')
  assert.equal(c.listen, { host: '0.0.0.0', port: 7301 })
  assert.is(c.advertise, 'n1.internal')
  assert.equal(c.seeds, [{ node: 'n1', address: 'ws://n1.internal:7301' }, { node: 'n2', address: 'ws://n2.internal:7301' }])
  assert.is(c.dataDir, '/var/lib/troupe')
  assert.equal(c.http, { port: 8301, operatorTokens: [{ token: 'reader-token-0123456789', role: 'read' }, { token: 'admin-token-0123456789', role: 'admin' }] })
  assert.is(c.appVersion, '1.2.3')
  assert.equal(c.roles, ['frontend', 'backend'])
  assert.equal(c.metadata, { zone: 'eu-1', rack: 'r7' })
  assert.equal(c.raftMembers, ['n1', 'n2'])
  assert.is(c.services?.sharding?.entities[0], Counter)
  assert.equal(configFromEnv({ ...ENV, TROUPE_DISCOVERY: 'dns', TROUPE_DISCOVERY_DNS_NAME: 'troupe.svc', TROUPE_DISCOVERY_DNS_PORT: '8301', TROUPE_SEEDS: undefined }).discovery, { method: 'dns', name: 'troupe.svc', port: 8301 })
})

test('configFromEnv: bad values name the variable and the field', () => {
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_PORT: 'eighty' }), /TROUPE_PORT \(listen.port\)/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_PORT: '70000' }), /TROUPE_PORT/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_HTTP_PORT: '-1' }), /TROUPE_HTTP_PORT/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_SEEDS: 'n1' }), /TROUPE_SEEDS \(seeds\)/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_SECRET: 'short' }), /^secret: must be at least 16 bytes/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_OPERATOR_TOKENS: 'abc:root' }), /TROUPE_OPERATOR_TOKENS/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_OPERATOR_TOKENS: 'short:read' }), /http.operatorTokens\[0\].token/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_NODE: 'bad name!' }), /^name:/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_DISCOVERY: 'carrier-pigeon' }), /TROUPE_DISCOVERY/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_DISCOVERY: 'kubernetes' }), /TROUPE_DISCOVERY_K8S_SELECTOR/)
  invalidArgument(() => configFromEnv({ ...ENV, TROUPE_RAFT_MEMBERS: 'n1,n1' }), /raftMembers/)
})

test('configFromFile reads JSON, merges it over a base, and names the key or file of a bad value', () => {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-config-'))
  try {
    const good = join(dir, 'node.json')
    writeFileSync(good, JSON.stringify({ name: 'f1', listen: { host: '127.0.0.1', port: 0 }, secret: SECRET, seeds: [{ node: 'f1', address: 'ws://127.0.0.1:7401' }], shutdown: { 'leave-cluster': 2000 } }))
    const c = configFromFile(good, { services: { pubsub: true } })
    assert.is(c.name, 'f1')
    assert.equal(c.shutdown, { 'leave-cluster': 2000 })
    assert.is(c.services?.pubsub, true)
    const write = (name: string, text: string): string => {
      const p = join(dir, name)
      writeFileSync(p, text)
      return p
    }
    invalidArgument(() => configFromFile(join(dir, 'missing.json')), /missing.json.*cannot be read/)
    invalidArgument(() => configFromFile(write('broken.json', '{ "name": ')), /broken.json.*not valid JSON/)
    invalidArgument(() => configFromFile(write('array.json', '[]')), /must hold a JSON object/)
    invalidArgument(() => configFromFile(write('unknown.json', JSON.stringify({ name: 'x', servces: {} }))), /^servces \(in .*unknown.json\)/)
    invalidArgument(() => configFromFile(write('port.json', JSON.stringify({ name: 'x', listen: { host: 'h', port: 'x' }, secret: SECRET }))), /^listen.port: .*port.json/)
    invalidArgument(() => configFromFile(write('phase.json', JSON.stringify({ name: 'x', listen: { host: 'h', port: 1 }, secret: SECRET, shutdown: { nap: 5 } }))), /^shutdown.nap/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('startNode checks its config before binding anything', async () => {
  const base = { name: 'x', listen: { host: '127.0.0.1', port: 0 }, secret: SECRET, installSignalHandlers: false }
  const cases: Array<[Partial<NodeConfig>, RegExp]> = [
    [{ secret: undefined }, /^secret: is required/],
    [{ listen: undefined }, /^listen: is required/],
    [{ services: { leases: {} } }, /^dataDir: is required/],
    [{ discovery: { method: 'dns', name: 'x.svc' } }, /^http: discovery 'dns'/],
    [{ seeds: [{ node: 'a', address: '' }] }, /^seeds\[0\].address/],
    [{ exitCode: 300 }, /^exitCode/],
    [{ http: { port: 0, operatorTokens: [{ token: 'x'.repeat(20), role: 'root' as 'read' }] } }, /^http.operatorTokens\[0\].role/],
  ]
  for (const [change, message] of cases) {
    try {
      await startNode({ ...base, ...change } as NodeConfig)
      assert.unreachable(`expected INVALID_ARGUMENT for ${JSON.stringify(change)}`)
    } catch (err) {
      assert.ok(isTroupeError(err, 'INVALID_ARGUMENT'), String(err))
      assert.match((err as Error).message, message)
    }
  }
})

test.run()
