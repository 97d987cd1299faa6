// Three cluster nodes as real processes on loopback WebSocket ports with a
// shared secret: they join through a seed, exchange tells and asks, and when
// one is killed with SIGKILL the others declare it down. Children print
// their cluster events as JSON lines; the test reads them. Every child is
// killed in `finally`, and the whole test fails (rather than hangs) after
// TEST_TIMEOUT_MS.
import { randomBytes } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { NodeProcess, killAll } from './fixtures/node-process.js'
import type { NodeEvent } from './fixtures/node-process.js'

const TEST_TIMEOUT_MS = 60_000
/** Generous: three `node --import tsx` start-ups on a loaded machine. */
const STARTUP_MS = 30_000
const NAMES = ['n1', 'n2', 'n3']

/** Runs `body`; rejects with `what` and the children's last output if it takes longer than `ms`. */
async function withTimeout<T>(ms: number, nodes: () => NodeProcess[], body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`cluster-processes: not done within ${ms} ms\n${nodes().map((n) => n.tail()).join('\n')}`)), ms)
  })
  try {
    return await Promise.race([body(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

const isMember = (e: NodeEvent, event: string, member: string) => e.event === event && e.member === member

test('3 processes: join through a seed, tell and ask, SIGKILL one and the others declare it down', async () => {
  const secret = randomBytes(32).toString('hex')
  const nodes: NodeProcess[] = []
  const started = Date.now()
  try {
    await withTimeout(TEST_TIMEOUT_MS, () => nodes, async () => {
      for (const name of NAMES) nodes.push(new NodeProcess(name, secret))
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

      const victim = n3
      const killedAt = Date.now()
      victim.kill('SIGKILL')
      const exit = await victim.exited
      assert.is(exit.signal, 'SIGKILL')
      const survivors = [n1, n2]
      const downs: NodeEvent[] = []
      for (const n of survivors) downs.push(await n.waitFor((e) => isMember(e, 'memberDown', victim.name), `memberDown ${victim.name}`, 20_000))
      for (const n of survivors) await n.waitFor((e) => e.event === 'view' && JSON.stringify(e.up) === JSON.stringify(['n1', 'n2']), 'view [n1, n2]', 10_000)
      const unreachable = survivors.map((n) => n.events.find((e) => isMember(e, 'unreachable', victim.name)))
      // The survivors still talk to each other, and asks to the dead node fail with a typed error.
      const reply = await n2.call({ cmd: 'ask', to: 'n1' })
      assert.is((reply.value as { node: string }).node, 'n1')
      const dead = await n1.call({ cmd: 'ask', to: victim.name })
      assert.is(dead.ok, false)
      assert.ok(['NODE_UNREACHABLE', 'ASK_TIMEOUT'].includes(dead.code as string), `ask to the killed node: ${JSON.stringify(dead)}`)

      console.log(
        `  processes listening after ${listeningAt - started} ms, cluster up ${upAt - listeningAt} ms later;` +
          ` after SIGKILL: unreachable in ${unreachable.map((e) => (e ? `${e.t - killedAt} ms` : '-')).join(' / ')},` +
          ` down in ${downs.map((e) => `${e.t - killedAt} ms`).join(' / ')} (n1 / n2); ask to the dead node: ${dead.code}`,
      )
    })
  } finally {
    await killAll(nodes)
  }
})

test.run()
