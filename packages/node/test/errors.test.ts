// The errors a newcomer hits, each typed: a taken port, a data directory
// that cannot be written, a wrong cluster secret (whenUp rejects naming the
// peer), a whenUp timeout, and a service that was not configured.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { isNodeError, startNode } from '../src/index.js'
import type { NodeError } from '../src/index.js'
import { FAST_CLUSTER, SECRET, services } from './helpers.js'
import { WsCluster } from './ws-helpers.js'

const quiet = (): void => {}

async function rejects(p: Promise<unknown>): Promise<NodeError> {
  try {
    await p
  } catch (err) {
    return err as NodeError
  }
  throw new Error('expected a rejection')
}

async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

test('a taken cluster port is ADDRESS_IN_USE naming host:port', async () => {
  const taken = await takenPort()
  try {
    const err = await rejects(startNode({ name: 'a', listen: { host: '127.0.0.1', port: taken.port }, secret: SECRET, installSignalHandlers: false, log: quiet }))
    assert.ok(isNodeError(err, 'ADDRESS_IN_USE'), String(err))
    assert.match(err.message, `127.0.0.1:${taken.port}`)
    assert.is(err.subject, `127.0.0.1:${taken.port}`)
  } finally {
    await taken.close()
  }
})

test('a taken HTTP port is ADDRESS_IN_USE, and the cluster port is released again', async () => {
  const taken = await takenPort()
  const dir = mkdtempSync(join(tmpdir(), 'troupe-node-'))
  try {
    const config = { name: 'a', listen: { host: '127.0.0.1', port: 0 }, secret: SECRET, dataDir: dir, http: { port: taken.port }, services: services(), installSignalHandlers: false, log: quiet }
    const err = await rejects(startNode(config))
    assert.ok(isNodeError(err, 'ADDRESS_IN_USE'), String(err))
    assert.match(err.message, `HTTP listener: 127.0.0.1:${taken.port}`)
    // Nothing was left open: the same data directory opens again at once.
    const node = await startNode({ ...config, http: { port: 0 } })
    await node.shutdown()
  } finally {
    await taken.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a data directory that cannot be written is DATA_DIR_NOT_WRITABLE saying why', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'troupe-node-ro-'))
  const locked = join(parent, 'locked')
  mkdirSync(locked)
  chmodSync(locked, 0o555)
  // root ignores permission bits: make the directory immutable instead.
  const immutable = process.getuid?.() === 0 && spawnSync('chattr', ['+i', locked]).status === 0
  try {
    const err = await rejects(startNode({ name: 'a', listen: { host: '127.0.0.1', port: 0 }, secret: SECRET, dataDir: join(locked, 'data'), services: services(), installSignalHandlers: false, log: quiet }))
    assert.ok(isNodeError(err, 'DATA_DIR_NOT_WRITABLE'), String(err))
    assert.match(err.message, /not writable: (permission denied|operation not permitted)/)
    assert.match(err.message, join(locked, 'data'))
    assert.not.match(err.message, /ENOENT/)
  } finally {
    if (immutable) spawnSync('chattr', ['-i', locked])
    chmodSync(locked, 0o755)
    rmSync(parent, { recursive: true, force: true })
  }
})

test('a wrong cluster secret: whenUp rejects with AUTH_FAILED naming the peer', async () => {
  const c = new WsCluster()
  try {
    const a = await c.start('a')
    await a.whenUp({ timeoutMs: 20_000 })
    const b = await c.start('b', { secret: 'a-different-secret-of-enough-bytes' })
    const err = await rejects(b.whenUp({ members: 2, timeoutMs: 30_000 }))
    assert.ok(isNodeError(err, 'AUTH_FAILED'), String(err))
    assert.is(err.subject, 'a')
    assert.match(err.message, /handshake with a refused/)
    // The node with the right secret also learns who knocked with a wrong one.
    const errA = await rejects(a.whenUp({ members: 2, timeoutMs: 30_000 }))
    assert.ok(isNodeError(errA, 'AUTH_FAILED') || isNodeError(errA, 'UP_TIMEOUT'), String(errA))
  } finally {
    await c.stop()
  }
})

test('whenUp rejects with UP_TIMEOUT (retryable) when too few members come up, and NODE_STOPPED once shutting down', async () => {
  const c = new WsCluster()
  try {
    const a = await c.start('a', { cluster: FAST_CLUSTER })
    await a.whenUp({ timeoutMs: 20_000 })
    const err = await rejects(a.whenUp({ members: 2, timeoutMs: 200 }))
    assert.ok(isNodeError(err, 'UP_TIMEOUT'), String(err))
    assert.ok(err.retryable)
    const waiting = rejects(a.whenUp({ members: 2 }))
    void a.shutdown()
    assert.ok(isNodeError(await waiting, 'NODE_STOPPED'))
  } finally {
    await c.stop()
  }
})

test('a service that is not configured is NOT_CONFIGURED naming the config field', async () => {
  const node = await startNode({ name: 'solo', listen: { host: '127.0.0.1', port: 0 }, secret: SECRET, installSignalHandlers: false, log: quiet })
  try {
    for (const [use, field] of [[() => node.leases, 'services.leases'], [() => node.sharding, 'services.sharding'], [() => node.http, 'http'], [() => node.sagas, 'services.sagas']] as const) {
      try {
        use()
        assert.unreachable('should throw')
      } catch (err) {
        assert.ok(isNodeError(err, 'NOT_CONFIGURED'), String(err))
        assert.match((err as Error).message, field)
      }
    }
  } finally {
    await node.shutdown()
  }
})

test.run()
