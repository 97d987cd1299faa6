// A chat node's life as an operator sees it, with three real processes on
// loopback: every node joins with its page and WebSocket addresses in its
// member record, so a page learns all of them from the node it is on; a
// node stopped with SIGTERM runs the coordinated shutdown, closes its pages
// with 1001 and exits 0, and the other nodes' pages are told it is gone; it
// comes back on the same data and is listed again; a node the cluster downs
// and removes while it is paused (SIGSTOP) exits with 75 once it runs again.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { NodeInfo, ServerFrame } from '../src/protocol.js'
import { ChatClient } from './fixtures/chat-client.js'
import { freePorts, startCluster, until, waitForCluster, withTimeout } from './fixtures/chat-cluster.js'
import type { ChatCluster, ChatProcess } from './fixtures/chat-cluster.js'

const TEST_TIMEOUT_MS = 150_000
const STARTUP_MS = 40_000
const STOP_MS = 30_000
const NAMES = ['a', 'b', 'c']

type NodesFrame = Extract<ServerFrame, { t: 'nodes' }>
const names = (nodes: NodeInfo[]) => nodes.map((n) => n.name).join(',')
const listed = (p: ChatProcess): NodeInfo => ({ name: p.name, http: p.httpUrl, ws: p.wsUrl })

async function apiNodes(p: ChatProcess): Promise<NodeInfo[] | null> {
  try {
    const res = await fetch(`${p.httpUrl}/api/nodes`, { signal: AbortSignal.timeout(2000) })
    return ((await res.json()) as { nodes: NodeInfo[] }).nodes
  } catch {
    return null
  }
}

test('pages learn every node from member metadata; SIGTERM stops a node cleanly (exit 0), a removed node exits 75', async () => {
  const clients: ChatClient[] = []
  let cluster: ChatCluster | null = null
  try {
    await withTimeout(TEST_TIMEOUT_MS, () => cluster?.nodes.map((n) => n.tail(20)).join('\n') ?? '', async () => {
      cluster = startCluster(NAMES, await freePorts(2 * NAMES.length))
      await waitForCluster(cluster, STARTUP_MS)
      const [a, b, c] = NAMES.map((n) => cluster!.byName(n))

      // The greeting lists this node first, then the others, with the addresses each node published.
      const onA = await ChatClient.connect('on-a', a!.wsUrl)
      clients.push(onA)
      const greeting = onA.frames.find((f) => f.t === 'node') as Extract<ServerFrame, { t: 'node' }>
      assert.equal(greeting.nodes, [listed(a!), listed(b!), listed(c!)])
      await until(async () => JSON.stringify(await apiNodes(b!)) === JSON.stringify([listed(b!), listed(a!), listed(c!)]), STARTUP_MS, () => 'b lists b, a, c')

      // SIGTERM: coordinated shutdown, its pages closed with 1001 (going away), exit 0.
      const onC = await ChatClient.connect('on-c', c!.wsUrl)
      clients.push(onC)
      const fromA = onA.frames.length
      c!.kill('SIGTERM')
      assert.is(await onC.closed, 1001, 'the page on the stopping node is told to go elsewhere')
      const exit = await withTimeout(STOP_MS, () => c!.tail(20), () => c!.exited)
      assert.equal(exit, { code: 0, signal: null }, c!.tail(20))
      assert.ok(c!.lines.some((l) => /shutdown phase leave-cluster: done/.test(l)), c!.tail(20))
      assert.ok(c!.lines.some((l) => /shutdown finished/.test(l)), c!.tail(20))
      const without = await onA.next<NodesFrame>((f) => f.t === 'nodes' && names(f.nodes) === 'a,b', STOP_MS, fromA)
      assert.equal(without.nodes, [listed(a!), listed(b!)])

      // Back on the same data: listed again.
      const c2 = await cluster.respawn('c')
      const fromA2 = onA.frames.length
      await onA.next<NodesFrame>((f) => f.t === 'nodes' && names(f.nodes) === 'a,b,c', STARTUP_MS, fromA2)
      await until(() => c2.lines.some((l) => /^\[c\] ready /.test(l)), STARTUP_MS, () => c2.tail())

      // Paused until the others have downed and removed it: once it runs again it exits 75 (restart me).
      const mark = a!.lines.length
      c2.pause()
      await until(() => a!.lines.slice(mark).some((l) => /member removed: c/.test(l)), STARTUP_MS, () => a!.tail())
      assert.is(names((await apiNodes(a!)) ?? []), 'a,b')
      c2.resume()
      const downed = await withTimeout(STOP_MS, () => c2.tail(20), () => c2.exited)
      assert.equal(downed, { code: 75, signal: null }, c2.tail(20))
    })
  } finally {
    for (const cl of clients) cl.close()
    await (cluster as ChatCluster | null)?.stop()
  }
})

test.run()
