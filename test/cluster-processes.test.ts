// Three cluster nodes as real processes on loopback WebSocket ports with a
// shared secret: they join through a seed, exchange tells and asks, use
// sharded entities, and when one is killed with SIGKILL the others declare it
// down and its entities are activated again elsewhere. Children print
// their cluster events as JSON lines; the test reads them. Every child is
// killed in `finally`, and the whole test fails (rather than hangs) after
// TEST_TIMEOUT_MS.
import { randomBytes } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CLUSTER_NODE, NodeProcess, killAll } from './fixtures/node-process.js'
import type { NodeEvent } from './fixtures/node-process.js'

const TEST_TIMEOUT_MS = Number(process.env.CLUSTER_PROCESSES_TIMEOUT_MS ?? 60_000)
/** Generous: three `node --import tsx` start-ups on a loaded machine. */
const STARTUP_MS = 30_000
const NAMES = ['n1', 'n2', 'n3']

/** Runs `body`; rejects with `what` and the children's last output if it takes longer than `ms`. */
async function withTimeout<T>(ms: number, nodes: () => NodeProcess[], body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cluster-processes: not done within ${ms} ms\n${nodes().map((n) => n.tail()).join('\n')}`)), ms)
  })
  const run = body()
  run.catch(() => {}) // after a timeout the body fails too (its children are killed); that is not news
  try {
    return await Promise.race([run, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const isMember = (e: NodeEvent, event: string, member: string) => e.event === event && e.member === member
const ACCOUNTS = Array.from({ length: 12 }, (_, i) => `acct-${i}`)
type Hit = { node: string; id: string; hits: number }

/** Asks every account entity (through `via`) to count a hit. */
async function hitAll(via: NodeProcess, keys: readonly string[]): Promise<Map<string, Hit>> {
  const out = new Map<string, Hit>()
  for (const key of keys) {
    const reply = await via.call({ cmd: 'entity', key })
    assert.ok(reply.ok, `entity ${key} via ${via.name}: ${JSON.stringify(reply)}`)
    const hit = reply.value as Hit
    assert.is(hit.id, key)
    out.set(key, hit)
  }
  return out
}

test('3 processes: join through a seed, tell, ask and entities; SIGKILL one, the others declare it down and reactivate its entities', async () => {
  const secret = randomBytes(32).toString('hex')
  const nodes: NodeProcess[] = []
  const started = Date.now()
  try {
    await withTimeout(TEST_TIMEOUT_MS, () => nodes, async () => {
      for (const name of NAMES) nodes.push(new NodeProcess(CLUSTER_NODE, name, secret))
      const [n1, n2, n3] = nodes as [NodeProcess, NodeProcess, NodeProcess]
      const urls = new Map<string, string>()
      for (const n of nodes) urls.set(n.name, (await n.waitFor((e) => e.event === 'listening', 'listening', STARTUP_MS)).url as string)
      const listeningAt = Date.now()

      // n1 is the first seed and forms the cluster; the others join through it.
      const seeds = [{ node: 'n1', address: urls.get('n1')! }]
      for (const n of nodes) n.send({ cmd: 'join', seeds })
      for (const n of nodes) await n.waitFor((e) => e.event === 'view' && (e.up as string[]).length === 3, 'a view with all 3 up', 15_000)
      const upAt = Date.now()

      // Ask across every pair: each answer comes from the node asked.
      for (const from of nodes) {
        for (const to of NAMES) {
          if (to === from.name) continue
          const reply = await from.call({ cmd: 'ask', to })
          assert.ok(reply.ok, `${from.name} → ${to}: ${JSON.stringify(reply)}`)
          assert.is((reply.value as { node: string }).node, to)
        }
      }
      // Tells arrive, all of them and in order (FIFO per sender → receiver).
      const told = await n1.call({ cmd: 'tell', to: 'n3', count: 500 })
      assert.equal(told.value, Array.from({ length: 500 }, (_, i) => i + 1))

      // Entities: each lives on one node, which every caller reaches (the second hit finds the first's state).
      const first = await hitAll(n1, ACCOUNTS)
      const second = await hitAll(n2, ACCOUNTS)
      for (const key of ACCOUNTS) {
        assert.is(second.get(key)!.node, first.get(key)!.node, `${key} answered from one node`)
        assert.is(second.get(key)!.hits, 2, `${key} kept its state between callers`)
      }
      const hosts = new Map<string, string[]>()
      for (const [key, hit] of first) hosts.set(hit.node, [...(hosts.get(hit.node) ?? []), key])
      // Kill the node (other than the seed) hosting the most entities.
      const victim = [n2, n3].sort((a, b) => (hosts.get(b.name)?.length ?? 0) - (hosts.get(a.name)?.length ?? 0))[0]!
      const orphans = hosts.get(victim.name) ?? []
      assert.ok(orphans.length > 0, `some entities live on ${victim.name}: ${JSON.stringify([...hosts])}`)
      const killedAt = Date.now()
      victim.kill('SIGKILL')
      const exit = await victim.exited
      assert.is(exit.signal, 'SIGKILL')
      const survivors = nodes.filter((n) => n !== victim)
      const survivorNames = survivors.map((n) => n.name)
      const downs: NodeEvent[] = []
      for (const n of survivors) downs.push(await n.waitFor((e) => isMember(e, 'memberDown', victim.name), `memberDown ${victim.name}`, 20_000))
      for (const n of survivors) await n.waitFor((e) => e.event === 'view' && JSON.stringify(e.up) === JSON.stringify(survivorNames), `view [${survivorNames}]`, 10_000)
      const unreachable = survivors.map((n) => n.events.find((e) => isMember(e, 'unreachable', victim.name)))
      // The killed node's entities answer again on the next message, from a survivor, as new activations;
      // the others kept their state.
      const reactivatedAt = Date.now()
      const third = await hitAll(survivors[1]!, ACCOUNTS)
      const reactivatedMs = Date.now() - reactivatedAt
      for (const key of ACCOUNTS) {
        const hit = third.get(key)!
        if (orphans.includes(key)) {
          assert.ok(survivorNames.includes(hit.node), `${key} reactivated on a survivor, not ${hit.node}`)
          assert.is(hit.hits, 1, `${key} is a new activation`)
        } else {
          assert.equal([hit.node, hit.hits], [first.get(key)!.node, 3], `${key} stayed where it was, with its state`)
        }
      }
      // The survivors still talk to each other, and asks to the dead node fail with a typed error.
      const [s1, s2] = survivors as [NodeProcess, NodeProcess]
      const reply = await s2.call({ cmd: 'ask', to: s1.name })
      assert.is((reply.value as { node: string }).node, s1.name)
      const dead = await s1.call({ cmd: 'ask', to: victim.name })
      assert.is(dead.ok, false)
      assert.ok(['NODE_UNREACHABLE', 'ASK_TIMEOUT'].includes(dead.code as string), `ask to the killed node: ${JSON.stringify(dead)}`)

      console.log(
        `  processes listening after ${listeningAt - started} ms, cluster up ${upAt - listeningAt} ms later;` +
          ` after SIGKILL: unreachable in ${unreachable.map((e) => (e ? `${e.t - killedAt} ms` : '-')).join(' / ')},` +
          ` down in ${downs.map((e) => `${e.t - killedAt} ms`).join(' / ')} (${survivorNames.join(' / ')}); ask to the dead node: ${dead.code};` +
          ` ${orphans.length} of ${ACCOUNTS.length} entities were on ${victim.name}, all ${ACCOUNTS.length} answered again in ${reactivatedMs} ms`,
      )
    })
  } finally {
    await killAll(nodes)
  }
})

test.run()
