// Checks a lease service's history: the replicated log of grants and ends,
// and what the fenced resources accepted. Plain data in, violations out;
// nothing here knows about the simulator or the lease implementation.

export type LeaseHolderMode = 'exclusive' | 'shared'

/** One change of holders, as a replica applied it from the log. */
export type LeaseLogEvent =
  | { kind: 'grant'; index: number; name: string; holder: string; token: number; mode: LeaseHolderMode; timeMs?: number }
  | { kind: 'end'; index: number; name: string; holder: string; reason: string; timeMs?: number }

/** One access a fenced resource judged (in the order it judged them). */
export interface FenceEvent {
  resource: string
  /** The lease name whose tokens protect the resource. */
  name: string
  token: number
  accepted: boolean
  holder?: string
  timeMs?: number
}

export interface LeaseHistory {
  /** Grants and ends in log order, as one replica applied them. */
  log: readonly LeaseLogEvent[]
  /** Other replicas' logs: where two logs both have an index, they must agree on it. */
  replicas?: Readonly<Record<string, readonly LeaseLogEvent[]>>
  /** Accesses judged by fenced resources. */
  fence?: readonly FenceEvent[]
}

export interface LeaseCheckOptions {
  /** Also require token === log index of the grant (Troupe's tokens are). Default false. */
  tokenIsIndex?: boolean
  /** Stop after this many violations (default 50). */
  maxViolations?: number
}

export type LeaseRule = 'order' | 'exclusive' | 'token' | 'holder' | 'divergence' | 'fence' | 'liveness'

export interface LeaseViolation {
  rule: LeaseRule
  message: string
  index?: number
}

interface Holding {
  holder: string
  mode: LeaseHolderMode
  token: number
}

/**
 * Checks guarantees 1–3 of a lease service:
 * 1. at every log index at most one exclusive holder per name, and shared
 *    holders only when there is no exclusive one;
 * 2. tokens strictly increase per name (shared holders granted at one
 *    index may share that index's token);
 * 3. a fenced resource never accepts a token lower than one it accepted
 *    before, nor a token that was never granted for its lease name.
 * Also: log indexes never go back, an end names a current holder, and
 * replicas agree wherever their logs overlap.
 */
export function checkLeaseSafety(history: LeaseHistory, options: LeaseCheckOptions = {}): LeaseViolation[] {
  const out = new Violations(options.maxViolations ?? 50)
  const granted = replay(history.log, options, out)
  for (const [replica, log] of Object.entries(history.replicas ?? {})) compareLogs(history.log, log, replica, out)
  if (history.fence) checkFence(history.fence, granted, out)
  return out.list
}

/** Replays the log; returns the tokens granted per name. */
function replay(log: readonly LeaseLogEvent[], options: LeaseCheckOptions, out: Violations): Map<string, Set<number>> {
  const holders = new Map<string, Holding[]>()
  const lastGrant = new Map<string, { token: number; index: number; mode: LeaseHolderMode }>()
  const granted = new Map<string, Set<number>>()
  let lastIndex = -Infinity
  for (const e of log) {
    if (e.index < lastIndex) out.add('order', `index ${e.index} after ${lastIndex}`, e.index)
    lastIndex = Math.max(lastIndex, e.index)
    const current = holders.get(e.name) ?? []
    if (e.kind === 'end') {
      const at = current.findIndex((h) => h.holder === e.holder)
      if (at < 0) out.add('holder', `${e.name}: ${e.holder} ended (${e.reason}) without holding it`, e.index)
      else current.splice(at, 1)
      holders.set(e.name, current)
      continue
    }
    if (e.mode === 'exclusive' && current.length > 0) {
      out.add('exclusive', `${e.name}: exclusive grant to ${e.holder} (token ${e.token}) while held by ${describe(current)}`, e.index)
    } else if (e.mode === 'shared' && current.some((h) => h.mode === 'exclusive')) {
      out.add('exclusive', `${e.name}: shared grant to ${e.holder} (token ${e.token}) while held exclusively by ${describe(current)}`, e.index)
    }
    if (current.some((h) => h.holder === e.holder)) out.add('holder', `${e.name}: ${e.holder} granted again while holding it`, e.index)
    const last = lastGrant.get(e.name)
    if (last !== undefined) {
      const sharedBatch = e.token === last.token && e.index === last.index && e.mode === 'shared' && last.mode === 'shared'
      if (!(e.token > last.token || sharedBatch)) out.add('token', `${e.name}: token ${e.token} granted to ${e.holder} after token ${last.token}`, e.index)
    }
    if (options.tokenIsIndex && e.token !== e.index) out.add('token', `${e.name}: token ${e.token} granted at index ${e.index}`, e.index)
    lastGrant.set(e.name, { token: e.token, index: e.index, mode: e.mode })
    current.push({ holder: e.holder, mode: e.mode, token: e.token })
    holders.set(e.name, current)
    let tokens = granted.get(e.name)
    if (!tokens) granted.set(e.name, (tokens = new Set()))
    tokens.add(e.token)
  }
  return granted
}

function compareLogs(reference: readonly LeaseLogEvent[], other: readonly LeaseLogEvent[], replica: string, out: Violations): void {
  const byIndex = (log: readonly LeaseLogEvent[]) => {
    const m = new Map<number, string[]>()
    for (const e of log) {
      const { timeMs: _t, ...rest } = e
      const list = m.get(e.index) ?? []
      list.push(JSON.stringify(rest))
      m.set(e.index, list)
    }
    return m
  }
  const a = byIndex(reference)
  const b = byIndex(other)
  for (const [index, events] of b) {
    const mine = a.get(index)
    if (mine !== undefined && mine.join('\n') !== events.join('\n')) {
      out.add('divergence', `replica ${replica} applied ${events.join(' ')} at index ${index}, the reference ${mine.join(' ')}`, index)
    }
  }
}

function checkFence(fence: readonly FenceEvent[], granted: Map<string, Set<number>>, out: Violations): void {
  const highest = new Map<string, number>()
  for (const f of fence) {
    if (!f.accepted) continue
    const seen = highest.get(f.resource) ?? 0
    if (f.token < seen) out.add('fence', `${f.resource} accepted token ${f.token}${f.holder ? ` from ${f.holder}` : ''} after token ${seen}`)
    if (!granted.get(f.name)?.has(f.token)) out.add('fence', `${f.resource} accepted token ${f.token}, never granted for ${f.name}`)
    highest.set(f.resource, Math.max(seen, f.token))
  }
}

export interface LeaseCrash {
  holder: string
  atMs: number
}

/**
 * Guarantee 4: after a holder crashed, each lease it held ends (in the log)
 * within `boundMs`. Crashes later than `endMs - boundMs` are not judged.
 * Log events need `timeMs`.
 */
export function checkLeaseRelease(log: readonly LeaseLogEvent[], crashes: readonly LeaseCrash[], boundMs: number, endMs: number): LeaseViolation[] {
  const out = new Violations(50)
  for (const crash of crashes) {
    if (crash.atMs + boundMs > endMs) continue
    const held = new Map<string, number>()
    for (const e of log) {
      if (e.timeMs === undefined) {
        out.add('liveness', 'log events need timeMs')
        return out.list
      }
      if (e.holder !== crash.holder) continue
      if (e.kind === 'grant' && e.timeMs <= crash.atMs) held.set(e.name, e.index)
      if (e.kind === 'end' && e.timeMs <= crash.atMs) held.delete(e.name)
      if (e.kind === 'end' && e.timeMs > crash.atMs && held.has(e.name)) {
        if (e.timeMs - crash.atMs > boundMs) out.add('liveness', `${e.name}: held by ${crash.holder}, which crashed at ${crash.atMs}, ended only at ${e.timeMs}`, e.index)
        held.delete(e.name)
      }
    }
    for (const name of held.keys()) out.add('liveness', `${name}: held by ${crash.holder}, which crashed at ${crash.atMs}, never ended (bound ${boundMs} ms)`)
  }
  return out.list
}

function describe(holders: Holding[]): string {
  return holders.map((h) => `${h.holder} (${h.mode}, token ${h.token})`).join(', ')
}

class Violations {
  readonly list: LeaseViolation[] = []
  constructor(private readonly max: number) {}
  add(rule: LeaseRule, message: string, index?: number): void {
    if (this.list.length >= this.max) return
    this.list.push(index === undefined ? { rule, message } : { rule, message, index })
  }
}
