// Hostile clients against one chat node (a real process on loopback), and
// after each attack the question that matters: does the node still serve a
// legitimate page? Attackers connect from 127.0.0.2-127.0.0.9, the
// legitimate client from 127.0.0.10 (Linux routes all of 127/8 to loopback),
// so the per-address caps can be tested on one machine. Floods are bounded
// in count and time; waits are liveness caps, not timing claims.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { WebSocket } from 'ws'
import type { ClientOptions } from 'ws'
import { MAX_SESSIONS_PER_ADDRESS, ROOMS_PER_ADDRESS } from '../src/limits.js'
import type { ServerFrame } from '../src/protocol.js'
import { ChatClient } from './fixtures/chat-client.js'
import { freePorts, startCluster, until, waitForCluster, withTimeout } from './fixtures/chat-cluster.js'
import type { ChatCluster } from './fixtures/chat-cluster.js'

const ATTACKERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9']
const LEGIT = '127.0.0.10'
/** How long the node gets to serve the legitimate client after an attack (liveness, not a timing claim). */
const LIVENESS_MS = 15_000
const STARTUP_MS = 40_000
/** Empty rooms expire this long after their last activity (short, for the test). */
const ROOM_TTL_MS = 4000
const IDLE_SOCKETS = 1000
const ROOM_FLOOD_CONNECTIONS = 60
const ROOM_FLOOD_ATTEMPTS = 1100
const ROOM_FLOOD_MS = 40_000

let cluster: ChatCluster | null = null
const url = () => cluster!.nodes[0]!.wsUrl
const tails = () => cluster?.nodes.map((n) => n.tail(20)).join('\n') ?? ''

interface RawSocket {
  ws: WebSocket
  /** Resolves true once open, false if it closed or failed first. */
  opened: Promise<boolean>
  closed: Promise<{ code: number; reason: string }>
  frames: ServerFrame[]
}

function rawSocket(from: string): RawSocket {
  const ws = new WebSocket(url(), { localAddress: from } as ClientOptions)
  const frames: ServerFrame[] = []
  ws.on('error', () => {})
  ws.on('message', (d) => frames.push(JSON.parse(String(d)) as ServerFrame))
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })))
  const opened = new Promise<boolean>((resolve) => {
    ws.once('open', () => resolve(true))
    void closed.then(() => resolve(false))
  })
  return { ws, opened, closed, frames }
}

let visits = 0

/** The legitimate page: connects from 127.0.0.10, signs in, joins `room` and posts a line; throws unless all of it works. */
async function legitimateClientServed(room = 'lobby'): Promise<void> {
  // A new name each time, so the per-user post limit never answers for the node.
  const user = `legit${++visits}`
  await withTimeout(LIVENESS_MS, () => `the legitimate client was not served\n${tails()}`, async () => {
    const c = await ChatClient.connect(user, url(), LIVENESS_MS, LEGIT)
    try {
      await c.request({ t: 'hello', user }, (f) => f.t === 'welcome')
      const joined = await c.request({ t: 'join', room }, (f) => (f.t === 'joined' || f.t === 'error') && f.room === room, LIVENESS_MS)
      assert.is(joined.t, 'joined', JSON.stringify(joined))
      const cid = `legit-${Date.now()}`
      const posted = await c.request({ t: 'post', room, text: 'still served', cid }, (f) => (f.t === 'posted' || f.t === 'error') && f.cid === cid, LIVENESS_MS)
      assert.is(posted.t, 'posted', JSON.stringify(posted))
    } finally {
      c.close()
    }
  })
}

const flooded = (rooms: string[]) => rooms.filter((r) => /^f\d+-\d+$/.test(r))

async function roomList(): Promise<string[]> {
  const c = await ChatClient.connect('legit', url(), LIVENESS_MS, LEGIT)
  try {
    await c.request({ t: 'hello', user: 'legit' }, (f) => f.t === 'welcome')
    const rooms = await c.request<Extract<ServerFrame, { t: 'rooms' }>>({ t: 'rooms' }, (f) => f.t === 'rooms')
    return rooms.rooms.map((r) => r.name)
  } finally {
    c.close()
  }
}

test.before(async () => {
  cluster = startCluster(['a'], await freePorts(2), { CHAT_ROOM_TTL_MS: String(ROOM_TTL_MS) })
  await waitForCluster(cluster, STARTUP_MS)
  await legitimateClientServed()
})

test.after(async () => {
  await cluster?.stop()
})

test(`${IDLE_SOCKETS} sockets that never sign in do not fill the node`, async () => {
  const sockets: RawSocket[] = []
  try {
    // In batches, so the listen backlog does not drop some of them.
    await withTimeout(LIVENESS_MS, () => 'the idle sockets did not settle', async () => {
      for (let i = 0; i < IDLE_SOCKETS; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => rawSocket(ATTACKERS[(i + j) % ATTACKERS.length]!))
        sockets.push(...batch)
        await Promise.all(batch.map((s) => s.opened))
      }
    })
    await legitimateClientServed()
    const open = sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length
    console.log(`  idle flood: ${open} of ${sockets.length} attacker sockets still open`)
  } finally {
    for (const s of sockets) s.ws.terminate()
  }
})

test('a connection that does not sign in is closed by the node', async () => {
  const s = rawSocket(ATTACKERS[0]!)
  try {
    assert.ok(await s.opened, 'the node accepts the connection')
    const closed = await withTimeout(LIVENESS_MS, () => 'an idle connection was never closed', () => s.closed)
    assert.is(closed.code, 1008, JSON.stringify(closed))
    await legitimateClientServed()
  } finally {
    s.ws.terminate()
  }
})

test(`one address keeps at most MAX_SESSIONS_PER_ADDRESS (${MAX_SESSIONS_PER_ADDRESS}) signed-in connections`, async () => {
  const sockets: RawSocket[] = []
  try {
    for (let i = 0; i < 2 * MAX_SESSIONS_PER_ADDRESS; i++) {
      const s = rawSocket(ATTACKERS[1]!)
      sockets.push(s)
      if (await s.opened) s.ws.send(JSON.stringify({ t: 'hello', user: `eve${i}` }))
    }
    // Every socket has either been welcomed or closed.
    await until(() => sockets.every((s) => s.ws.readyState === WebSocket.CLOSED || s.frames.some((f) => f.t === 'welcome')), LIVENESS_MS, () => 'sockets did not settle')
    const signedIn = sockets.filter((s) => s.ws.readyState === WebSocket.OPEN && s.frames.some((f) => f.t === 'welcome')).length
    assert.ok(signedIn >= 1 && signedIn <= MAX_SESSIONS_PER_ADDRESS, `${signedIn} signed-in connections from one address`)
    await legitimateClientServed()
  } finally {
    for (const s of sockets) s.ws.terminate()
  }
})

test(`a room flood (${ROOM_FLOOD_CONNECTIONS} connections, up to ${ROOM_FLOOD_ATTEMPTS} new rooms) does not lock others out of creating rooms`, async () => {
  const clients: ChatClient[] = []
  let created = 0
  try {
    for (let i = 0; i < ROOM_FLOOD_CONNECTIONS; i++) {
      const c = await ChatClient.connect(`flood${i}`, url(), LIVENESS_MS, ATTACKERS[i % ATTACKERS.length])
      clients.push(c)
      await c.request({ t: 'hello', user: `flood${i}` }, (f) => f.t === 'welcome' || f.t === 'error')
    }
    const deadline = Date.now() + ROOM_FLOOD_MS
    const perClient = Math.ceil(ROOM_FLOOD_ATTEMPTS / ROOM_FLOOD_CONNECTIONS)
    await Promise.all(
      clients.map(async (c, i) => {
        for (let k = 0; k < perClient && Date.now() < deadline && c.open; k++) {
          const room = `f${i}-${k}`
          const joined = await c.request({ t: 'join', room }, (f) => (f.t === 'joined' || f.t === 'error') && f.room === room, LIVENESS_MS).catch(() => null)
          if (joined?.t !== 'joined') continue
          const cid = `x${k}`
          const posted = await c.request({ t: 'post', room, text: 'mine', cid }, (f) => (f.t === 'posted' || f.t === 'error') && f.cid === cid, LIVENESS_MS).catch(() => null)
          if (posted?.t === 'posted') created++
          c.send({ t: 'leave', room })
        }
      }),
    )
    // Rooms expire while the flood runs (short TTL here), so more may be made over time; at no time more than the budgets.
    const live = flooded(await roomList()).length
    assert.ok(live <= ATTACKERS.length * ROOMS_PER_ADDRESS, `${live} rooms of ${ATTACKERS.length} addresses exist at once`)
    await legitimateClientServed('fresh-room')
  } finally {
    for (const c of clients) c.close()
    console.log(`  room flood: ${created} rooms created`)
  }
})

test('empty rooms expire, and stay expired after the node restarts; the creators get their budget back', async () => {
  let left: string[] = []
  await until(
    async () => {
      await legitimateClientServed() // some activity, so the log's clock moves on
      left = flooded(await roomList())
      return left.length === 0
    },
    LIVENESS_MS,
    () => `still listed: ${left.slice(0, 10).join(', ')} (${left.length})`,
    500,
  )
  await cluster!.restart('a')
  await waitForCluster(cluster!, STARTUP_MS)
  await legitimateClientServed()
  assert.equal(flooded(await roomList()), [], 'no expired room came back with the restart')
  const again = await ChatClient.connect('flood0', url(), LIVENESS_MS, ATTACKERS[0])
  try {
    await again.request({ t: 'hello', user: 'flood0' }, (f) => f.t === 'welcome')
    const joined = await again.request({ t: 'join', room: 'f0-again' }, (f) => (f.t === 'joined' || f.t === 'error') && f.room === 'f0-again', LIVENESS_MS)
    assert.is(joined.t, 'joined', JSON.stringify(joined))
  } finally {
    again.close()
  }
})

test.run()
