// Three nodes through startNode on the WebSocket transport with NodeDisk
// and the HTTP listener: /live, /ready before and after up and during
// shutdown, operator routes refused without a token.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Counter, KvMachine, eventually, transfer } from './helpers.js'
import { OPERATOR_TOKEN, WsCluster, get } from './ws-helpers.js'

test('three nodes over WebSocket with NodeDisk: entities, Raft, a lease, a saga, and the HTTP routes', async () => {
  const c = new WsCluster()
  try {
    const a = await c.start('a')
    assert.not.ok(a.ready, 'not ready before it is up')
    assert.equal((await get(`${a.http.url}/live`)).status, 200)
    await a.whenUp({ timeoutMs: 20_000 })
    const b = await c.start('b')
    const cc = await c.start('c')
    const nodes = [a, b, cc]
    for (const n of nodes) assert.equal(await n.whenUp({ members: 3, timeoutMs: 20_000 }), ['a', 'b', 'c'])
    for (const n of nodes) {
      const ready = await get(`${n.http.url}/ready`)
      assert.is(ready.status, 200)
      assert.is(ready.body.ready, true)
      assert.equal(ready.body.members, ['a', 'b', 'c'])
    }

    // Routes: operator routes need a bearer token; tokens in URLs do nothing.
    a.http.route('GET', '/status', (_req, res, ctx) => void res.end(JSON.stringify({ role: ctx.role })), { access: 'operator' })
    assert.is((await get(`${a.http.url}/status`)).status, 401)
    assert.is((await get(`${a.http.url}/status?token=${OPERATOR_TOKEN}`)).status, 401)
    assert.is((await get(`${a.http.url}/status`, { authorization: 'Bearer wrong-token-wrong-token' })).status, 401)
    const ok = await get(`${a.http.url}/status`, { authorization: `Bearer ${OPERATOR_TOKEN}` })
    assert.is(ok.status, 200)
    assert.equal(ok.body, { role: 'admin' })
    assert.is((await get(`${a.http.url}/nothing-here`)).status, 404)

    for (const n of nodes) for (const id of ['e1', 'e2', 'e3', 'e4']) await eventually(() => n.sharding.entity(Counter, id).ask('add', 1))
    for (const id of ['e1', 'e2', 'e3', 'e4']) assert.is(await cc.sharding.entity(Counter, id).ask('get', undefined), 3)

    const groups = await Promise.all(nodes.map((n) => n.raft.group({ id: 'kv', stateMachine: () => new KvMachine() })))
    await eventually(() => groups[1]!.propose({ op: 'put', key: 'k', value: 'durable' }, { timeoutMs: 3000 }))
    assert.is(await eventually(() => groups[0]!.read({ op: 'get', key: 'k' }, { timeoutMs: 3000 })), 'durable')

    const lease = await eventually(() => b.leases.acquire('nightly', { ttlMs: 10_000, waitMs: 5000 }))
    assert.ok(lease.token > 0)
    const result = await eventually(() => cc.sagas.run(transfer, { amount: 7 }, { id: 'ws-1' }))
    assert.is(result.status, 'completed')

    // During shutdown /ready answers 503 with the reason; /live still answers until the listener closes.
    let readyDuring: { status: number; body: any } | null = null
    a.onShutdown('stop-work', 'probe', async () => {
      readyDuring = await get(`${a.http.url}/ready`)
    })
    await a.shutdown({ reason: 'test' })
    assert.is(readyDuring!.status, 503)
    assert.match(readyDuring!.body.reason, /shutting down \(test\)/)
    assert.not.ok(await fetch(`${a.http.url}/live`).then(() => true, () => false), 'the listener is closed after shutdown')
  } finally {
    await c.stop()
  }
})

test('/ready is 503 with the reason while the node cannot join', async () => {
  const c = new WsCluster()
  try {
    // The only seed is a port nobody listens on (this node is not the first seed, so it never forms a cluster alone).
    const n = await c.start('a', { seeds: [{ node: 'z', address: 'ws://127.0.0.1:9' }, { node: 'a', address: 'ws://127.0.0.1:9' }] })
    const ready = await get(`${n.http.url}/ready`)
    assert.is(ready.status, 503)
    assert.is(ready.body.ready, false)
    assert.ok(typeof ready.body.reason === 'string' && ready.body.reason.length > 0)
    assert.is((await get(`${n.http.url}/live`)).status, 200)
  } finally {
    await c.stop()
  }
})

test.run()
