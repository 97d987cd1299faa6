import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Prng } from '@troupe/testkit'
import { ExpiryJudge } from '../src/core/expiry-judge.js'
import { LeaseTable } from '../src/core/lease-table.js'
import type { LeaseTableOptions } from '../src/core/lease-table.js'
import type { AcquireCommand, LeaseCommand, LeaseMode, LeaseResult } from '../src/core/commands.js'

/** A table fed by a pretend log: each command gets the next index, the current term and leader clock. */
class Log {
  index = 0
  term = 1
  timeMs = 1000
  readonly grants: Array<{ name: string; clientId: string; requestId: number; token: number }> = []
  readonly changes: Array<{ name: string; revision: number }> = []
  constructor(readonly table = new LeaseTable()) {
    table.setListener({
      granted: (name, e) => this.grants.push({ name, clientId: e.clientId, requestId: e.requestId, token: e.token }),
      changed: (name, revision) => this.changes.push({ name, revision }),
    })
  }
  apply(cmd: LeaseCommand): LeaseResult {
    return this.table.apply(cmd, { index: ++this.index, term: this.term, timeMs: this.timeMs })
  }
  acquire(clientId: string, requestId: number, name = 'job', o: Partial<AcquireCommand> = {}): LeaseResult {
    return this.apply({ op: 'acquire', name, mode: 'exclusive', ttlMs: 500, wait: true, inbox: null, value: null, clientId, requestId, settledBelow: 0, ...o })
  }
  release(clientId: string, requestId: number, name = 'job'): LeaseResult {
    return this.apply({ op: 'release', name, clientId, requestId })
  }
  keepAlive(clientId: string, requestId: number, name = 'job'): LeaseResult {
    return this.apply({ op: 'keepAlive', name, clientId, requestId })
  }
  /** Expires as the leader of `term` would, with the renewal it judged (default: the current one). */
  expire(clientId: string, requestId: number, name = 'job', o: { term?: number; renewedIndex?: number } = {}): LeaseResult {
    const renewedIndex = o.renewedIndex ?? this.renewedIndex(clientId, requestId, name)
    return this.apply({ op: 'expire', term: o.term ?? this.term, items: [{ name, clientId, requestId, renewedIndex }] })
  }
  renewedIndex(clientId: string, requestId: number, name = 'job'): number {
    for (const e of this.table.entries()) if (e.name === name && e.clientId === clientId && e.requestId === requestId) return e.renewedIndex
    return 0
  }
  /** The leader's round: judge by `judge` at `nowMs` and apply what it finds due. */
  reap(judge: ExpiryJudge, nowMs: number): number {
    const items = judge.judge(this.term, nowMs, this.table.entries(), 256)
    if (items.length > 0) this.apply({ op: 'expire', term: this.term, items })
    return items.length
  }
  holders(name = 'job'): string[] {
    return this.table.info(name).holders.map((h) => `${h.clientId}#${h.requestId}`)
  }
}

test('exclusive: one holder, the rest queue FIFO; a release grants the head only', () => {
  const log = new Log()
  assert.equal(log.acquire('a', 1), { status: 'granted', token: 1 })
  assert.equal(log.acquire('b', 1), { status: 'queued', position: 0 })
  assert.equal(log.acquire('c', 1), { status: 'queued', position: 1 })
  assert.equal(log.acquire('d', 1), { status: 'queued', position: 2 })
  assert.equal(log.release('a', 1), { status: 'released' })
  assert.equal(log.holders(), ['b#1'])
  assert.equal(log.grants, [{ name: 'job', clientId: 'b', requestId: 1, token: 5 }], 'only the head is woken')
  assert.equal(log.keepAlive('c', 1), { status: 'queued', position: 0 })
  assert.equal(log.release('b', 1), { status: 'released' })
  assert.equal(log.holders(), ['c#1'])
  assert.is(log.grants.length, 2)
  assert.is(log.grants[1]!.clientId, 'c')
})

test('cancelling a waiter keeps the others in order; cancelling the head of a blocked queue wakes nobody', () => {
  const log = new Log()
  log.acquire('a', 1)
  log.acquire('b', 1)
  log.acquire('c', 1)
  assert.equal(log.release('b', 1), { status: 'cancelled' })
  assert.is(log.grants.length, 0)
  assert.equal(log.keepAlive('c', 1), { status: 'queued', position: 0 })
  log.release('a', 1)
  assert.equal(log.holders(), ['c#1'])
})

test('shared holders coexist; an exclusive waiter blocks new shared ones; compatible heads are granted together', () => {
  const log = new Log()
  const shared = (): Partial<AcquireCommand> => ({ mode: 'shared' as LeaseMode })
  assert.equal(log.acquire('s1', 1, 'job', shared()), { status: 'granted', token: 1 })
  assert.equal(log.acquire('s2', 1, 'job', shared()), { status: 'granted', token: 2 })
  assert.equal(log.acquire('e', 1), { status: 'queued', position: 0 })
  assert.equal(log.acquire('s3', 1, 'job', shared()), { status: 'queued', position: 1 }, 'blocked by the exclusive waiter')
  assert.equal(log.acquire('s4', 1, 'job', shared()), { status: 'queued', position: 2 })
  assert.equal(log.acquire('e2', 1), { status: 'queued', position: 3 })
  log.release('s1', 1)
  assert.is(log.grants.length, 0, 'the exclusive waiter still waits for s2')
  log.release('s2', 1)
  assert.equal(log.holders(), ['e#1'])
  assert.equal(log.grants.map((g) => g.clientId), ['e'])
  log.release('e', 1)
  assert.equal(log.holders(), ['s3#1', 's4#1'], 'the shared waiters at the head are granted together')
  assert.equal(log.grants.map((g) => g.clientId), ['e', 's3', 's4'], 'and e2 behind them is not woken')
  const tokens = log.table.info('job').holders.map((h) => h.token)
  assert.is(tokens[0], tokens[1], 'granted by one command, they share its index')
})

test('idempotent acquire: a retry keeps its place and gets the same grant; finished requests answer the same', () => {
  const log = new Log()
  log.acquire('a', 1)
  assert.equal(log.acquire('b', 7), { status: 'queued', position: 0 })
  log.acquire('c', 1)
  assert.equal(log.acquire('b', 7), { status: 'queued', position: 0 }, 'a retry is not a second entry')
  assert.is(log.table.info('job').waiters, 2)
  log.release('a', 1)
  const token = log.table.info('job').holders[0]!.token
  assert.equal(log.acquire('b', 7), { status: 'granted', token }, 'a retry after the grant gets the same token')
  log.release('b', 7)
  assert.equal(log.acquire('b', 7), { status: 'gone', reason: 'released' }, 'never granted twice')
  assert.equal(log.holders(), ['c#1'])
  // Once the client says request 7 settled, a late copy is stale and its outcome forgotten.
  log.acquire('b', 8, 'other', { settledBelow: 8 })
  assert.equal(log.acquire('b', 7), { status: 'stale' })
  assert.equal(log.holders(), ['c#1'])
})

test('tryAcquire: busy when held or when anyone queues; the answer is remembered', () => {
  const log = new Log()
  assert.equal(log.acquire('a', 1, 'job', { wait: false }), { status: 'granted', token: 1 })
  assert.equal(log.acquire('b', 1, 'job', { wait: false }), { status: 'gone', reason: 'busy' })
  assert.equal(log.acquire('b', 1, 'job', { wait: false }), { status: 'gone', reason: 'busy' })
  assert.equal(log.acquire('s', 1, 'r', { wait: false, mode: 'shared' }), { status: 'granted', token: 4 })
  log.acquire('e', 1, 'r')
  assert.equal(log.acquire('s2', 1, 'r', { wait: false, mode: 'shared' }), { status: 'gone', reason: 'busy' }, 'an exclusive waiter blocks a new shared holder')
})

test('expiry happens only by an expire command of the current term, for the renewal it judged', () => {
  const log = new Log()
  log.acquire('a', 1)
  log.acquire('b', 1)
  log.timeMs += 1_000_000
  log.keepAlive('b', 1)
  assert.equal(log.holders(), ['a#1'], 'time alone changes nothing')
  const judged = log.renewedIndex('a', 1)
  log.keepAlive('a', 1)
  assert.equal(log.expire('a', 1, 'job', { renewedIndex: judged }), { status: 'done', expired: 0, stale: 1, unknown: 0 }, 'renewed after the judgment')
  assert.equal(log.expire('a', 1, 'job', { term: 0 }), { status: 'done', expired: 0, stale: 1, unknown: 0 }, "another term's judgment")
  assert.equal(log.holders(), ['a#1'])
  assert.equal(log.expire('a', 1), { status: 'done', expired: 1, stale: 0, unknown: 0 })
  assert.equal(log.holders(), ['b#1'])
  assert.equal(log.grants.map((g) => g.clientId), ['b'])
  assert.equal(log.acquire('a', 1), { status: 'gone', reason: 'expired' })
  assert.equal(log.keepAlive('a', 1), { status: 'gone', reason: 'expired' })
  assert.equal(log.expire('a', 1), { status: 'done', expired: 0, stale: 0, unknown: 1 })
})

test('the judge: due a full TTL after it first saw the current renewal, by its own clock', () => {
  const log = new Log()
  const judge = new ExpiryJudge()
  log.acquire('a', 1) // ttl 500
  log.acquire('b', 1)
  assert.is(log.reap(judge, 10_000), 0, 'first look')
  assert.is(log.reap(judge, 10_499), 0)
  log.keepAlive('a', 1)
  assert.is(log.reap(judge, 10_500), 1, 'b (waiting, not polling) is due; a was renewed')
  assert.equal(log.holders(), ['a#1'])
  assert.is(log.table.info('job').waiters, 0)
  assert.is(log.reap(judge, 10_999), 0, 'a: seen renewed at 10,500')
  assert.is(log.reap(judge, 11_000), 1)
  assert.equal(log.holders(), [])
})

test('waiters expire too when they stop polling; the queue moves on', () => {
  const log = new Log()
  const judge = new ExpiryJudge()
  log.acquire('a', 1)
  log.acquire('dead', 1)
  log.acquire('b', 1)
  log.reap(judge, 0)
  log.keepAlive('a', 1)
  log.keepAlive('b', 1)
  log.reap(judge, 400)
  assert.is(log.reap(judge, 500), 1)
  assert.is(log.table.info('job').waiters, 1)
  log.release('a', 1)
  assert.equal(log.holders(), ['b#1'])
})

test('after a leader change every lease gets a fresh full TTL from when the new leader first looks', () => {
  for (const newClock of [1100, 200, 50_000]) {
    const log = new Log()
    const old = new ExpiryJudge()
    log.acquire('a', 1) // ttl 500
    old.judge(1, 1000, log.table.entries(), 10)
    assert.is(old.judge(1, 1499, log.table.entries(), 10).length, 0)
    log.term = 2 // a new leader, whose clock reads newClock, takes over
    const judge = new ExpiryJudge()
    assert.equal(judge.judge(2, newClock, log.table.entries(), 10), [])
    assert.equal(judge.judge(2, newClock + 499, log.table.entries(), 10), [], `clock ${newClock}: not before a full TTL`)
    // The old leader's late judgment cannot land in the new term.
    const late = old.judge(1, 1500, log.table.entries(), 10)
    assert.is(late.length, 1)
    assert.equal(log.apply({ op: 'expire', term: 1, items: late }), { status: 'done', expired: 0, stale: 1, unknown: 0 })
    assert.is(log.reap(judge, newClock + 500), 1)
    assert.equal(log.holders(), [])
  }
})

test('a judge that stops leading and leads again starts from scratch', () => {
  const log = new Log()
  const judge = new ExpiryJudge()
  log.acquire('a', 1)
  judge.judge(1, 0, log.table.entries(), 10)
  judge.reset()
  assert.equal(judge.judge(1, 600, log.table.entries(), 10), [])
  log.term = 3
  assert.equal(judge.judge(3, 1000, log.table.entries(), 10), [], 'a new term is a fresh look even without a reset')
  assert.is(judge.judge(3, 1500, log.table.entries(), 10).length, 1)
})

test('tokens strictly increase per name under random operations, and at most one exclusive holder at a time', () => {
  const rng = new Prng(7)
  const log = new Log()
  const judge = new ExpiryJudge()
  const clients = ['a', 'b', 'c', 'd', 'e']
  let rid = 0
  const live: Array<{ c: string; r: number; name: string }> = []
  const modeOf = new Map<string, LeaseMode>()
  for (let step = 0; step < 3000; step++) {
    log.timeMs += rng.range(0, 50)
    if (rng.next() < 0.01) log.term++
    if (rng.next() < 0.01) judge.reset()
    const name = rng.pick(['x', 'y'])
    const roll = rng.next()
    if (roll < 0.4 || live.length === 0) {
      const c = rng.pick(clients)
      const r = ++rid
      const mode: LeaseMode = rng.next() < 0.3 ? 'shared' : 'exclusive'
      modeOf.set(`${c}#${r}`, mode)
      const res = log.acquire(c, r, name, { mode, wait: rng.next() < 0.8 })
      if (res.status === 'granted') log.grants.push({ name, clientId: c, requestId: r, token: res.token })
      live.push({ c, r, name })
    } else if (roll < 0.6) {
      const x = rng.pick(live)
      log.release(x.c, x.r, x.name)
    } else if (roll < 0.8) {
      const x = rng.pick(live)
      log.keepAlive(x.c, x.r, x.name)
    } else {
      log.reap(judge, log.timeMs)
    }
    for (const n of ['x', 'y']) {
      const info = log.table.info(n)
      const excl = info.holders.filter((h) => h.mode === 'exclusive').length
      assert.ok(excl === 0 || info.holders.length === 1, `name ${n}: ${JSON.stringify(info.holders)}`)
    }
  }
  // Grants in log order: each token is above every earlier one of the name, or equal for shared holders of one command.
  const byName = new Map<string, { token: number; shared: boolean }>()
  for (const g of log.grants) {
    const shared = modeOf.get(`${g.clientId}#${g.requestId}`) === 'shared'
    const last = byName.get(g.name)
    if (last) assert.ok(g.token > last.token || (g.token === last.token && shared && last.shared), `${g.name}: token ${g.token} after ${last.token}`)
    byName.set(g.name, { token: g.token, shared })
  }
  assert.ok(log.grants.length > 50, `only ${log.grants.length} grants`)
})

test('snapshot and restore: the restored table answers every later command the same way', () => {
  const rng = new Prng(3)
  const a = new Log()
  const judge = new ExpiryJudge()
  for (let i = 0; i < 200; i++) {
    a.timeMs += 10
    const c = `c${rng.int(5)}`
    if (rng.next() < 0.6) a.acquire(c, i, rng.pick(['x', 'y', 'z']), { mode: rng.next() < 0.3 ? 'shared' : 'exclusive' })
    else a.release(c, rng.range(0, i), rng.pick(['x', 'y', 'z']))
  }
  const b = new Log()
  b.table.restore(JSON.parse(JSON.stringify(a.table.snapshot())))
  b.index = a.index
  b.timeMs = a.timeMs
  assert.equal(b.table.snapshot(), a.table.snapshot())
  for (let i = 0; i < 300; i++) {
    const cmd: LeaseCommand =
      rng.next() < 0.5
        ? { op: 'acquire', name: rng.pick(['x', 'y', 'z']), mode: 'exclusive', ttlMs: 300, wait: true, inbox: null, value: null, clientId: `c${rng.int(5)}`, requestId: 200 + i, settledBelow: 0 }
        : rng.next() < 0.5
          ? { op: 'release', name: rng.pick(['x', 'y', 'z']), clientId: `c${rng.int(5)}`, requestId: rng.range(0, 200 + i) }
          : { op: 'expire', term: a.term, items: judge.judge(a.term, a.timeMs, a.table.entries(), 3) }
    a.timeMs += 7
    b.timeMs += 7
    assert.equal(b.apply(cmd), a.apply(cmd))
  }
  assert.equal(b.table.snapshot(), a.table.snapshot())
})

test('malformed commands are refused with a reason and change nothing', () => {
  const log = new Log()
  log.acquire('a', 1)
  const before = JSON.stringify(log.table.snapshot())
  for (const bad of [null, 7, { op: 'nope' }, { op: 'acquire', name: '', clientId: 'x', requestId: 1 }, { op: 'acquire', name: 'job', mode: 'both', ttlMs: 5, wait: true, inbox: null, value: null, clientId: 'x', requestId: 1, settledBelow: 0 },
    { op: 'acquire', name: 'job', mode: 'shared', ttlMs: -1, wait: true, inbox: null, value: null, clientId: 'x', requestId: 1, settledBelow: 0 }, { op: 'release', name: 'job', clientId: 'a', requestId: -1 }, { op: 'expire', term: 1, items: 'all' }, { op: 'expire', term: 1, items: [{ name: 'job', clientId: 'a', requestId: 1 }] }]) {
    const r = log.apply(bad as unknown as LeaseCommand)
    assert.is(r.status, 'invalid', JSON.stringify(bad))
  }
  assert.is(JSON.stringify(log.table.snapshot()), before)
})

test('renew: one command renews many entries, each answered on its own; limits and bad items are typed answers', () => {
  const log = new Log(new LeaseTable({ maxRenewItems: 4 }))
  log.acquire('a', 1, 'x')
  log.acquire('a', 2, 'y')
  log.acquire('b', 1, 'z')
  log.acquire('a', 3, 'z') // queued behind b
  log.acquire('a', 4, 'w')
  log.release('a', 4, 'w')
  const xBefore = log.renewedIndex('a', 1, 'x')
  const r = log.apply({ op: 'renew', clientId: 'a', items: [{ name: 'x', requestId: 1 }, { name: 'z', requestId: 3 }, { name: 'w', requestId: 4 }, { name: 'x', requestId: 9 }] })
  assert.equal(r, { status: 'done', items: [
    { status: 'granted', token: 1 }, { status: 'queued', position: 0 }, { status: 'gone', reason: 'released' }, { status: 'unknown' },
  ] })
  assert.is(log.renewedIndex('a', 1, 'x'), log.index, 'renewed at the index of the renew command')
  assert.ok(xBefore < log.index)
  // An expiry judged before the renewal is void; y (not in the batch) is not renewed and expires.
  assert.equal(log.expire('a', 1, 'x', { renewedIndex: xBefore }), { status: 'done', expired: 0, stale: 1, unknown: 0 })
  assert.equal(log.expire('a', 2, 'y'), { status: 'done', expired: 1, stale: 0, unknown: 0 })
  // A malformed item is answered `invalid`; the others in the command still renew.
  const bad = log.apply({ op: 'renew', clientId: 'a', items: [{ name: '', requestId: 1 }, { name: 'x', requestId: 1 }, null, { name: 'x', requestId: -2 }] as never })
  assert.is(bad.status, 'done')
  assert.equal((bad as { items: Array<{ status: string }> }).items.map((i) => i.status), ['invalid', 'granted', 'invalid', 'invalid'])
  // Over the item limit: refused as a whole, nothing renewed.
  const renewedAt = log.renewedIndex('a', 1, 'x')
  const many = log.apply({ op: 'renew', clientId: 'a', items: Array.from({ length: 5 }, () => ({ name: 'x', requestId: 1 })) })
  assert.equal(many, { status: 'rejected', reason: 'more than 4 items' })
  assert.is(log.renewedIndex('a', 1, 'x'), renewedAt)
  for (const malformed of [{ op: 'renew', clientId: 'a', items: 'all' }, { op: 'renew', clientId: '', items: [] }, { op: 'renew', items: [] }]) {
    assert.is(log.apply(malformed as unknown as LeaseCommand).status, 'invalid', JSON.stringify(malformed))
  }
  // The one-entry keepAlive form (older logs) still applies.
  assert.equal(log.keepAlive('a', 1, 'x'), { status: 'granted', token: 1 })
})

test('limits: waiters per name and clients are bounded; idle clients are forgotten by log time', () => {
  const opts: LeaseTableOptions = { maxWaitersPerName: 2, maxClients: 4, clientIdleMs: 1000 }
  const log = new Log(new LeaseTable(opts))
  log.acquire('a', 1)
  log.acquire('b', 1)
  log.acquire('c', 1)
  assert.equal(log.acquire('d', 1), { status: 'rejected', reason: 'more than 2 waiters for this name' })
  assert.is(log.acquire('e', 1).status, 'rejected', 'a fifth client')
  log.release('b', 1)
  log.release('c', 1)
  log.release('d', 1)
  log.timeMs += 5000
  for (let i = 0; i < 4; i++) log.keepAlive('a', 1)
  assert.equal(log.acquire('e', 1, 'other'), { status: 'granted', token: log.index })
  assert.equal(log.acquire('b', 1), { status: 'queued', position: 0 }, 'b was forgotten: its old request id is new again')
})

test.run()
