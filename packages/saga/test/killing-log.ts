import type { AppendRequest, SagaLog, SagaRecord } from '../src/index.js'

// A coordinator process dying at its k-th append, as its log sees it: the
// crash tests (crash.test.ts) and the kills inside recover()
// (recover-crash.test.ts) share it.

/** How a process dies at its k-th append: halted before or after the record is durable, or the log throws. */
export type Kill = { at: number; mode: 'before' | 'after' | 'throw' } | null

const never = new Promise<never>(() => {})

/**
 * The log as one coordinator process sees it. At append number `at` the
 * process dies: 'before' the record reaches the log, 'after' it is durable
 * but before anyone hears back (from then on its calls never return, as for
 * a dead process), or 'throw' (the disk fails: this and later calls reject).
 * The log itself (the disk) outlives the process.
 */
export class KillingLog implements SagaLog {
  appends = 0
  dead = false

  constructor(
    private readonly inner: SagaLog,
    private readonly kill: Kill,
    private readonly onKill: () => void,
  ) {}

  async append(req: AppendRequest): Promise<void> {
    if (this.dead) return this.kill?.mode === 'throw' ? Promise.reject(new Error('the process is gone')) : never
    const n = ++this.appends
    if (this.kill?.at !== n) return this.inner.append(req)
    if (this.kill.mode === 'after') await this.inner.append(req).catch(() => undefined)
    this.dead = true
    this.onKill()
    if (this.kill.mode === 'throw') throw new Error(`disk failure at append ${n}`)
    return never
  }

  read(id: string): Promise<SagaRecord[] | null> {
    return this.dead && this.kill?.mode !== 'throw' ? never : this.inner.read(id)
  }

  unfinished(): Promise<string[]> {
    return this.dead && this.kill?.mode !== 'throw' ? never : this.inner.unfinished()
  }

  async close(): Promise<void> {}
}
