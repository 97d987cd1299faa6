// The pure half of the chat's defences against room and connection floods:
// the room table (a creation budget per user and per address, empty rooms
// expiring by the log's time, the same on every replica and after a
// restart), and the address key the per-address caps count by.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { ApplyMeta } from '@troupe/raft'
import { HistoryMachine } from '../src/history.js'
import type { HistoryCommand } from '../src/history.js'
import { MAX_ROOMS, ROOMS_PER_ADDRESS, ROOMS_PER_USER } from '../src/limits.js'
import type { ChatMessage } from '../src/protocol.js'

const table = suite('room table')

let index = 0
const meta = (timeMs: number): ApplyMeta => ({ index: ++index, term: 1, timeMs, clientId: 'c', seq: index })
const TTL = 60_000
const create = (m: HistoryMachine, room: string, who: string, addr: string, t: number) => m.apply({ op: 'create', room, by: { user: who, addr }, ttlMs: TTL }, meta(t))
const post = (m: HistoryMachine, room: string, who: string, addr: string, t: number, token = 1) =>
  m.apply({ op: 'append', room, user: who, text: 'hi', cid: `c${index}`, token, by: { user: who, addr }, ttlMs: TTL }, meta(t)) as ChatMessage
const roomNames = (m: HistoryMachine) => (m.query({ op: 'rooms' }) as Array<{ name: string }>).map((r) => r.name)

table('a user creates at most ROOMS_PER_USER live rooms, an address at most ROOMS_PER_ADDRESS', () => {
  const m = new HistoryMachine()
  for (let i = 0; i < ROOMS_PER_USER; i++) create(m, `u${i}`, 'eve', '10.0.0.1', 1000)
  assert.throws(() => create(m, 'one-more', 'eve', '10.0.0.1', 1000), /^ROOM_BUDGET/)
  let made = ROOMS_PER_USER
  for (let i = 0; made < ROOMS_PER_ADDRESS; i++, made++) create(m, `a${i}`, `eve${i}`, '10.0.0.1', 1000)
  assert.throws(() => create(m, 'other-name', 'mallory', '10.0.0.1', 1000), /^ROOM_BUDGET/, 'another name from the same address')
  assert.throws(() => post(m, 'by-post', 'mallory', '10.0.0.1', 1000), /^ROOM_BUDGET/, 'a post to a new room counts as creating it')
  create(m, 'legit', 'ann', '10.0.0.2', 1000)
  create(m, 'legit', 'eve', '10.0.0.1', 1000) // opening a room that exists costs nothing
  assert.is(roomNames(m).length, ROOMS_PER_ADDRESS + 1)
})

table('empty rooms expire by the log entries\' time; activity keeps a room; the budget comes back', () => {
  const m = new HistoryMachine()
  create(m, 'quiet', 'eve', 'x', 0)
  create(m, 'busy', 'ann', 'y', 0)
  post(m, 'busy', 'ann', 'y', TTL / 2)
  m.apply({ op: 'touch', room: 'busy', token: 1 }, meta(TTL))
  post(m, 'busy', 'ann', 'y', TTL + 1)
  assert.equal(roomNames(m), ['busy'], 'quiet expired, busy was kept alive')
  assert.equal(m.query({ op: 'room', room: 'quiet' }), null)
  assert.equal((m.query({ op: 'room', room: 'busy' }) as ChatMessage[]).length, 2)
  m.apply({ op: 'touch', room: 'never-made', token: 1 }, meta(TTL + 2))
  assert.not.ok(roomNames(m).includes('never-made'), 'a touch does not create a room')
  for (let i = 0; i < ROOMS_PER_USER; i++) create(m, `again${i}`, 'eve', 'x', TTL + 3)
})

table('the room table is bounded: MAX_ROOMS, then ROOM_LIMIT until rooms expire', () => {
  const m = new HistoryMachine()
  for (let i = 0; i < MAX_ROOMS; i++) create(m, `r${i}`, `u${i}`, `a${i}`, 0)
  assert.throws(() => create(m, 'full', 'ann', 'z', 1), /^ROOM_LIMIT/)
  create(m, 'full', 'ann', 'z', TTL + 1)
  assert.equal(roomNames(m), ['full'])
})

table('replaying the same log, or restoring a snapshot, gives the same rooms (expiry is durable and deterministic)', () => {
  const log: Array<[HistoryCommand, ApplyMeta]> = []
  const apply = (m: HistoryMachine, c: HistoryCommand, t: number) => {
    const mt = meta(t)
    log.push([c, mt])
    try { m.apply(c, mt) } catch { /* refused commands change nothing */ }
  }
  const m = new HistoryMachine()
  for (let i = 0; i < 12; i++) apply(m, { op: 'create', room: `r${i}`, by: { user: `u${i % 3}`, addr: `a${i % 2}` }, ttlMs: TTL }, i * 10_000)
  apply(m, { op: 'append', room: 'r1', user: 'u1', text: 't', cid: 'x', token: 2, by: { user: 'u1', addr: 'a1' }, ttlMs: TTL }, 100_000)
  apply(m, { op: 'create', room: 'late', by: { user: 'v', addr: 'b' }, ttlMs: TTL }, 130_000)
  const replayed = new HistoryMachine()
  for (const [c, mt] of log) try { replayed.apply(c, mt) } catch { /* same refusals */ }
  assert.equal(roomNames(replayed), roomNames(m))
  const restored = new HistoryMachine()
  restored.restore(structuredClone(m.snapshot()))
  assert.equal(restored.snapshot(), m.snapshot())
  create(restored, 'later', 'w', 'c', 400_000)
  create(m, 'later', 'w', 'c', 400_000)
  assert.equal(roomNames(restored), roomNames(m))
  assert.equal(roomNames(m), ['later'])
})

table('a snapshot from before expiry (v2) restores: its rooms live from their last line on', () => {
  const line = (seq: number, timeMs: number): ChatMessage => ({ seq, user: 'ann', text: 't', timeMs, cid: `c${seq}` })
  const m = new HistoryMachine()
  m.restore({ v: 2, rooms: [['old', 2, [line(1, 5), line(2, 10)], 3]] })
  assert.equal(roomNames(m), ['old'])
  m.apply({ op: 'touch', room: 'other', token: 0 }, meta(10 + 60 * 60_000 + 1))
  assert.equal(roomNames(m), [], 'the old room expired an hour after its last line')
})

table.run()
