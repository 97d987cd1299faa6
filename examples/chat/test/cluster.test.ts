// Three chat nodes as real processes on loopback, and scripted WebSocket
// clients in place of browsers: two users on different nodes chat (lines,
// presence, typing); bad input is refused to its sender only; then the node
// hosting the room is killed with SIGKILL and the room goes on elsewhere with
// its whole history, while the disconnected client reconnects to another
// node as the page does. Every process is killed in `finally`.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { POST_BURST } from '../src/limits.js'
import type { ChatMessage, ServerFrame } from '../src/protocol.js'
import { ChatClient } from './fixtures/chat-client.js'
import { freePorts, startCluster, until, waitForCluster, withTimeout } from './fixtures/chat-cluster.js'
import type { ChatCluster } from './fixtures/chat-cluster.js'

const TEST_TIMEOUT_MS = 80_000
const STARTUP_MS = 40_000
const FAILOVER_MS = 30_000
const NAMES = ['a', 'b', 'c']

type Joined = Extract<ServerFrame, { t: 'joined' }>
type Posted = Extract<ServerFrame, { t: 'posted' }>
type ErrorFrame = Extract<ServerFrame, { t: 'error' }>

const isMessage = (room: string, text: string) => (f: ServerFrame) => f.t === 'message' && f.room === room && f.msg.text === text
const isError = (code: string) => (f: ServerFrame) => f.t === 'error' && f.code === code

async function signIn(name: string, url: string, room: string): Promise<{ client: ChatClient; joined: Joined }> {
  const client = await ChatClient.connect(name, url)
  await client.request({ t: 'hello', user: name }, (f) => f.t === 'welcome')
  const joined = await client.request<Joined>({ t: 'join', room }, (f) => (f.t === 'joined' && f.room === room) || f.t === 'error', 15_000)
  assert.is(joined.t, 'joined', `${name} joins ${room}: ${JSON.stringify(joined)}`)
  return { client, joined }
}

async function post(client: ChatClient, room: string, text: string, cid: string, timeoutMs = 15_000): Promise<Posted | ErrorFrame> {
  return client.request<Posted | ErrorFrame>({ t: 'post', room, text, cid }, (f) => (f.t === 'posted' || f.t === 'error') && f.cid === cid, timeoutMs)
}

test('two users on two nodes chat; bad input is refused to its sender only; the room survives the crash of its node', async () => {
  const clients: ChatClient[] = []
  let cluster: ChatCluster | null = null
  const started = Date.now()
  const marks: string[] = []
  const mark = (what: string) => marks.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`)
  try {
    await withTimeout(TEST_TIMEOUT_MS, () => cluster?.nodes.map((n) => n.tail()).join('\n') ?? '', async () => {
      cluster = startCluster(NAMES, await freePorts(2 * NAMES.length))
      await waitForCluster(cluster, STARTUP_MS)
      mark('cluster up')
      const room = 'general'

      // Where does the room live? Its host is in the join reply.
      const probe = await signIn('probe', cluster.nodes[0]!.wsUrl, room)
      clients.push(probe.client)
      const host = probe.joined.host
      const other = NAMES.find((n) => n !== host)!
      probe.client.close()

      // Ann is on the room's node (it will die under her), Bob on another.
      const ann = await signIn('ann', cluster.byName(host).wsUrl, room)
      const bob = await signIn('bob', cluster.byName(other).wsUrl, room)
      clients.push(ann.client, bob.client)
      assert.is(ann.client.node, host)
      assert.is(bob.client.node, other)
      await ann.client.next((f) => f.t === 'presence' && f.members.includes('bob'))

      // They chat across nodes, in both directions.
      const lines: ChatMessage[] = []
      for (let i = 1; i <= 3; i++) {
        const sent = await post(ann.client, room, `ann line ${i} <b>not bold</b>`, `ann-${i}`)
        assert.is(sent.t, 'posted', JSON.stringify(sent))
        lines.push((sent as Posted).msg)
        await bob.client.next(isMessage(room, `ann line ${i} <b>not bold</b>`), 10_000, 0)
      }
      const reply = await post(bob.client, room, 'hi ann', 'bob-1')
      assert.is(reply.t, 'posted')
      lines.push((reply as Posted).msg)
      await ann.client.next(isMessage(room, 'hi ann'), 10_000, 0)
      assert.equal(lines.map((m) => m.seq), [1, 2, 3, 4], 'seq numbers are dense per room')
      // Typing reaches the other user.
      bob.client.send({ t: 'typing', room })
      await ann.client.next((f) => f.t === 'typing' && f.room === room && f.user === 'bob', 10_000, 0)
      mark('chatted')

      // A retried post (same cid) is stored once.
      const again = await post(ann.client, room, 'ann line 1 <b>not bold</b>', 'ann-1')
      assert.is((again as Posted).msg.seq, 1)

      // Bad input: each is refused with its code, to the sender only.
      const bobFramesBefore = bob.client.frames.length
      const long = await post(ann.client, room, 'x'.repeat(501), 'long')
      assert.is(long.t === 'error' && long.code, 'MESSAGE_TOO_LONG')
      await ann.client.request({ t: 'join', room: 'Not A Room!' }, isError('INVALID_ROOM'))
      await ann.client.request('{not json', isError('BAD_REQUEST'))
      await ann.client.request({ t: 'post', room: 'elsewhere', text: 'hi', cid: 'nir' }, isError('NOT_IN_ROOM'))
      const stranger = await ChatClient.connect('stranger', cluster.byName(other).wsUrl)
      clients.push(stranger)
      await stranger.request({ t: 'hello', user: '<script>' }, isError('INVALID_USER'))
      await stranger.request({ t: 'join', room }, isError('NOT_LOGGED_IN'))
      // Flooding: the burst passes, the rest is refused; Bob is not held up.
      const flood = await Promise.all(Array.from({ length: POST_BURST + 3 }, (_, i) => post(ann.client, room, `flood ${i}`, `flood-${i}`)))
      const limited = flood.filter((f) => f.t === 'error' && f.code === 'RATE_LIMITED').length
      const accepted = flood.filter((f) => f.t === 'posted').length
      assert.ok(limited >= 3, `rate limited ${limited} of ${flood.length}`)
      assert.ok(accepted <= POST_BURST, `accepted ${accepted}`)
      assert.is(limited + accepted, flood.length)
      const bobAfterFlood = await post(bob.client, room, 'still here', 'bob-2')
      assert.is(bobAfterFlood.t, 'posted', 'another user is not rate limited by Ann')
      assert.ok(ann.client.open && stranger.open, 'bad input does not cost the connection')
      assert.not.ok(bob.client.frames.slice(bobFramesBefore).some((f) => f.t === 'error'), 'Bob saw none of the errors')
      mark('validated')

      // Everything stored so far, as the room's history says.
      const before = (await bob.client.request<Joined>({ t: 'join', room }, (f) => f.t === 'joined')).history
      assert.ok(before.length >= 5 + accepted)

      // Kill the node hosting the room.
      cluster.byName(host).kill('SIGKILL')
      const closedWith = await ann.client.closed
      mark(`killed ${host} (ann's socket closed with ${closedWith})`)

      // Ann reconnects as the page does: her own node first (dead), then the others it was told about.
      const listed = (ann.client.frames.find((f) => f.t === 'node') as Extract<ServerFrame, { t: 'node' }>).nodes
      assert.equal(listed.map((n) => n.name).sort(), [...NAMES].sort(), 'the node told the page where else to go')
      let annAgain: ChatClient | null = null
      for (const candidate of listed) {
        try {
          annAgain = await ChatClient.connect('ann', candidate.ws, 3000)
          break
        } catch {
          // that one is dead: try the next
        }
      }
      assert.ok(annAgain, 'ann reconnected')
      clients.push(annAgain!)
      assert.is.not(annAgain!.node, host)
      await annAgain!.request({ t: 'hello', user: 'ann' }, (f) => f.t === 'welcome')

      // The room comes back on a survivor with its whole history. Joins during
      // the failover may answer UNAVAILABLE; the page retries, and so do we.
      let rejoined: Joined | null = null
      await until(
        async () => {
          const r = await annAgain!.request<Joined | ErrorFrame>({ t: 'join', room }, (f) => (f.t === 'joined' && f.room === room) || (f.t === 'error' && f.room === room), 15_000)
          if (r.t === 'joined') rejoined = r
          return rejoined !== null
        },
        FAILOVER_MS,
        () => `room ${room} did not come back: ${JSON.stringify(annAgain!.frames.slice(-3))}`,
        500,
      )
      const after = rejoined! as Joined
      mark(`room back on ${after.host}`)
      assert.is.not(after.host, host)
      assert.ok(NAMES.includes(after.host))
      assert.equal(after.history, before, 'the history survived the crash of the room\'s node')

      // And the chat goes on, both ways, with seq numbers continuing.
      const next = await post(annAgain!, room, 'after the crash', 'ann-after')
      assert.is(next.t, 'posted', JSON.stringify(next))
      assert.is((next as Posted).msg.seq, before.at(-1)!.seq + 1)
      await bob.client.next(isMessage(room, 'after the crash'), FAILOVER_MS, 0)
      const back = await post(bob.client, room, 'welcome back', 'bob-3')
      assert.is(back.t, 'posted')
      await annAgain!.next(isMessage(room, 'welcome back'), 10_000, 0)
      // Presence is rebuilt on the new host from the sessions' heartbeats.
      await annAgain!.next((f) => f.t === 'presence' && f.room === room && f.host === after.host && f.members.includes('ann') && f.members.includes('bob'), FAILOVER_MS, 0)
      mark('chat goes on')
    })
  } finally {
    for (const c of clients) c.close()
    await (cluster as ChatCluster | null)?.stop()
    console.log(`  chat cluster: ${marks.join(', ')}`)
  }
})

test.run()
