import type { SagaRecord } from '../records.js'
import { isFinished } from '../records.js'

export interface SagaStoreOptions {
  /** Finished histories kept for `status`/`history` and for `run`'s idempotency on id; older ones are forgotten. Default 10,000. */
  retainFinished?: number
}

export type AppendOutcome = { ok: true } | { ok: false; length: number }

/** What a store's snapshot holds (CBOR-encodable). */
export interface SagaStoreSnapshot {
  version: 1
  /** [id, records] in creation order. */
  histories: [string, SagaRecord[]][]
  /** Finished ids, the oldest finished first. */
  finished: string[]
}

/**
 * The histories of every saga and transaction, with compare-and-append and
 * bounded retention of finished ones. Deterministic and I/O-free: the memory
 * log uses it directly, the file log replays its write-ahead log into it,
 * and the Raft log runs it as the group's state machine.
 */
export class SagaStore {
  private readonly histories = new Map<string, SagaRecord[]>()
  /** Finished ids, in the order they finished (a Map keeps insertion order). */
  private readonly finished = new Map<string, true>()
  readonly retainFinished: number
  /** Records held in all histories. */
  records = 0

  constructor(options: SagaStoreOptions = {}) {
    this.retainFinished = options.retainFinished ?? 10_000
    if (!(Number.isSafeInteger(this.retainFinished) && this.retainFinished >= 0)) throw new RangeError('retainFinished must be an integer >= 0')
  }

  /** Number of histories held. */
  get size(): number {
    return this.histories.size
  }

  append(id: string, seq: number, records: readonly SagaRecord[]): AppendOutcome {
    const history = this.histories.get(id)
    const length = history?.length ?? 0
    if (seq !== length) return { ok: false, length }
    if (records.length === 0) return { ok: true }
    const next = history ?? []
    next.push(...records)
    this.records += records.length
    if (!history) this.histories.set(id, next)
    this.finished.delete(id)
    if (isFinished(next)) {
      this.finished.set(id, true)
      this.forgetOld()
    }
    return { ok: true }
  }

  read(id: string): readonly SagaRecord[] | undefined {
    return this.histories.get(id)
  }

  unfinished(): string[] {
    const out: string[] = []
    for (const id of this.histories.keys()) if (!this.finished.has(id)) out.push(id)
    return out
  }

  snapshot(): SagaStoreSnapshot {
    return { version: 1, histories: [...this.histories.entries()], finished: [...this.finished.keys()] }
  }

  restore(snapshot: unknown): void {
    const s = snapshot as SagaStoreSnapshot
    if (s?.version !== 1 || !Array.isArray(s.histories) || !Array.isArray(s.finished)) throw new Error('saga store snapshot has an unknown format')
    this.histories.clear()
    this.finished.clear()
    this.records = 0
    for (const [id, records] of s.histories) {
      this.histories.set(id, records)
      this.records += records.length
    }
    for (const id of s.finished) this.finished.set(id, true)
  }

  private forgetOld(): void {
    while (this.finished.size > this.retainFinished) {
      const oldest = this.finished.keys().next().value as string
      this.finished.delete(oldest)
      this.records -= this.histories.get(oldest)?.length ?? 0
      this.histories.delete(oldest)
    }
  }
}
