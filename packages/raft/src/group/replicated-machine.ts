import { decodeSnapshot, encodeSnapshot, type CommandEntry } from './command-codec.js'
import type { AnyStateMachine } from './state-machine.js'

/** What a client is told about its command. Failures here are deterministic: every replica reaches the same one. */
export type Outcome =
  | { ok: true; value: unknown }
  | { ok: false; code: 'COMMAND_FAILED' | 'SESSION_EXPIRED' | 'OVERLOADED'; message: string }

interface Session {
  /** Results below this seq were delivered; their commands are duplicates now. */
  ackedBelow: number
  /** Log time of the client's latest command. */
  lastActiveMs: number
  results: Map<number, Outcome>
}

export interface ReplicatedMachineOptions {
  /** A client silent for this long (in log time) loses its session. Must be equal on every replica. */
  sessionTtlMs: number
  /** Cached results per client; a command beyond it is refused (OVERLOADED) rather than risk a double apply. */
  maxResultsPerClient: number
}

/**
 * The replicated state of a group: the user's state machine plus the
 * client sessions that make retried commands apply once, and the log time
 * they expire by. Everything here is a function of the log alone (entries
 * carry the leader's clock), so every replica decides alike.
 */
export class ReplicatedMachine {
  /** The newest leader timestamp applied (never goes back, even if a new leader's clock is behind). */
  logTimeMs = 0
  private user: AnyStateMachine
  private sessions = new Map<string, Session>()
  /** When to drop expired sessions next (garbage collection only; expiry is checked on every use). */
  private sweepAtMs = 0
  /** Commands this replica applied to the user's state machine (duplicates excluded). */
  commandsApplied = 0

  constructor(
    private readonly factory: () => AnyStateMachine,
    private readonly o: ReplicatedMachineOptions,
  ) {
    this.user = factory()
  }

  get sessionCount(): number {
    return this.sessions.size
  }

  /**
   * Applies a committed command once per (clientId, seq). Returns the outcome
   * to report, or null for a late duplicate whose client already got its answer.
   */
  apply(cmd: CommandEntry, index: number, term: number): Outcome | null {
    if (cmd.timeMs > this.logTimeMs) this.logTimeMs = cmd.timeMs
    this.maybeSweep()
    let s = this.sessions.get(cmd.clientId)
    if (s !== undefined && this.expired(s)) {
      this.sessions.delete(cmd.clientId)
      s = undefined
    }
    if (s === undefined) {
      // A client that got results before had a session: it expired, and this may be a retry of an applied command.
      if (cmd.established) return { ok: false, code: 'SESSION_EXPIRED', message: `session of client ${cmd.clientId} expired` }
      s = { ackedBelow: 1, lastActiveMs: this.logTimeMs, results: new Map() }
      this.sessions.set(cmd.clientId, s)
    }
    s.lastActiveMs = this.logTimeMs
    if (cmd.ackedBelow > s.ackedBelow) {
      s.ackedBelow = cmd.ackedBelow
      for (const seq of s.results.keys()) if (seq < s.ackedBelow) s.results.delete(seq)
    }
    if (cmd.seq < s.ackedBelow) return null
    const cached = s.results.get(cmd.seq)
    if (cached !== undefined) return cached
    if (s.results.size >= this.o.maxResultsPerClient) {
      return { ok: false, code: 'OVERLOADED', message: `client ${cmd.clientId} has ${s.results.size} unacknowledged results` }
    }
    let outcome: Outcome
    try {
      this.commandsApplied++
      const value = this.user.apply(cmd.command, { index, term, timeMs: this.logTimeMs, clientId: cmd.clientId, seq: cmd.seq })
      outcome = { ok: true, value }
    } catch (err) {
      outcome = { ok: false, code: 'COMMAND_FAILED', message: err instanceof Error ? err.message : String(err) }
    }
    s.results.set(cmd.seq, outcome)
    return outcome
  }

  query(q: unknown): unknown {
    return this.user.query(q)
  }

  snapshot(): Uint8Array {
    const sessions: unknown[] = []
    for (const [clientId, s] of this.sessions) {
      if (this.expired(s)) continue
      const results = [...s.results].map(([seq, o]) => [seq, o.ok ? [1, o.value] : [0, o.code, o.message]])
      sessions.push([clientId, s.ackedBelow, s.lastActiveMs, results])
    }
    return encodeSnapshot({ logTimeMs: this.logTimeMs, sessions, user: this.user.snapshot() })
  }

  /** Replaces the whole state; empty data (a founding snapshot) means a fresh state machine. */
  restore(data: Uint8Array): void {
    this.user = this.factory()
    this.sessions = new Map()
    this.logTimeMs = 0
    this.sweepAtMs = 0
    if (data.byteLength === 0) return
    const env = decodeSnapshot(data)
    this.logTimeMs = env.logTimeMs
    for (const w of env.sessions as Array<[string, number, number, Array<[number, unknown[]]>]>) {
      const results = new Map<number, Outcome>()
      for (const [seq, o] of w[3]) results.set(seq, o[0] === 1 ? { ok: true, value: o[1] } : { ok: false, code: o[1] as 'COMMAND_FAILED', message: String(o[2]) })
      this.sessions.set(w[0], { ackedBelow: w[1], lastActiveMs: w[2], results })
    }
    this.user.restore(env.user)
  }

  private expired(s: Session): boolean {
    return s.lastActiveMs + this.o.sessionTtlMs < this.logTimeMs
  }

  private maybeSweep(): void {
    if (this.logTimeMs < this.sweepAtMs) return
    this.sweepAtMs = this.logTimeMs + Math.max(1, this.o.sessionTtlMs / 4)
    for (const [id, s] of this.sessions) if (this.expired(s)) this.sessions.delete(id)
  }
}
