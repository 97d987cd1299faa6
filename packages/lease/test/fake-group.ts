// An in-process stand-in for a Raft group holding a lease table: commands
// apply in order, each with the next log index, the current term and the
// leader's clock, after a delay on the injected clock. Faults: lost replies
// (the command applied, the client times out), an unreachable group, and
// leader changes (a new term: the service's expiry judge starts afresh).
// A request that gets no answer fails as a RaftGroup's would: RaftGroupError
// TIMEOUT, which is retryable.
import type { ActorSystem, ManualClock } from '@troupe/runtime'
import { RaftGroupError } from '@troupe/raft'
import type { LeaseCommand, LeaseQuery } from '../src/core/commands.js'
import type { GroupRequestOptions, LeaseGroup, LeaseReplica, ReplicaRole } from '../src/server/group-handle.js'
import { LeaseService } from '../src/server/lease-service.js'
import type { LeaseServiceOptions } from '../src/server/lease-service.js'
import type { LeaseTable } from '../src/core/lease-table.js'

/**
 * The replica side (`propose`, `read`, `role`) is what the lease service
 * uses and never fails; `client` is what a `Leases` client uses, with faults.
 */
export class FakeGroup implements LeaseReplica {
  readonly service: LeaseService
  readonly table: LeaseTable
  index = 0
  term = 1
  /** One-way delay of a request and of its reply, in ms. */
  latencyMs = 1
  /** The next this many replies are lost after their command applied. */
  loseReplies = 0
  /** Requests neither apply nor get answers: they time out. */
  unreachable = false
  /** The next requests fail with these errors (one each, in order) without applying. */
  readonly failures: unknown[] = []
  readonly applied: LeaseCommand[] = []
  /** Reads clients sent (not the service's own). */
  reads = 0

  /** The group as a client reaches it: subject to `latencyMs`, `loseReplies` and `unreachable`. */
  readonly client: LeaseGroup = {
    propose: (command, options) => this.request(options, () => this.apply(command)),
    read: (query, options) => {
      this.reads++
      return this.request(options, () => this.table.query(query))
    },
  }

  /** `clock` is global time: the log time and the delays run on it. */
  constructor(
    system: ActorSystem,
    private readonly clock: ManualClock,
    serviceOptions: LeaseServiceOptions = {},
  ) {
    this.service = new LeaseService(system, { reapIntervalMs: 10, ...serviceOptions })
    this.table = this.service.stateMachine()
    this.service.attach(this)
  }

  /** A new leader takes over: a new term. */
  elect(): void {
    this.term++
  }

  role(): ReplicaRole {
    return { leader: true, term: this.term }
  }

  async propose(command: LeaseCommand): Promise<unknown> {
    return this.apply(command)
  }

  async read(query: LeaseQuery): Promise<unknown> {
    return this.table.query(query)
  }

  /** Applies at once, as the leader would when the entry commits. */
  apply(command: LeaseCommand): unknown {
    this.applied.push(command)
    return this.table.apply(command, { index: ++this.index, term: this.term, timeMs: this.clock.now() })
  }

  private request(options: GroupRequestOptions = {}, run: () => unknown): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? 1000
    return new Promise((resolve, reject) => {
      const timeout = () => reject(new RaftGroupError('TIMEOUT', `no answer within ${timeoutMs} ms`))
      const timer = this.clock.setTimer(timeoutMs, timeout)
      if (this.unreachable) return
      const failure = this.failures.length > 0 ? { error: this.failures.shift() } : null
      this.clock.setTimer(this.latencyMs, () => {
        if (this.unreachable) return
        if (failure !== null) {
          this.clock.clearTimer(timer)
          return reject(failure.error)
        }
        const result = run()
        if (this.loseReplies > 0) {
          this.loseReplies--
          return
        }
        this.clock.setTimer(this.latencyMs, () => {
          this.clock.clearTimer(timer)
          resolve(result)
        })
      })
    })
  }
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Lets promise chains and actor turns finish. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await macrotask()
}

/** Runs every timer due in the next `ms`, letting work settle after each. */
export async function runFor(clock: ManualClock, ms: number): Promise<void> {
  const target = clock.now() + ms
  await settle()
  while (clock.fireNext(target)) await settle()
  clock.advance(target - clock.now())
  await settle()
}

/** Runs the clock until `promise` settles (at most `maxMs`), and returns its outcome. */
export async function waitFor<T>(clock: ManualClock, promise: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false
  promise.then(
    () => (done = true),
    () => (done = true),
  )
  const limit = clock.now() + maxMs
  await settle()
  while (!done && clock.now() < limit) {
    if (!clock.fireNext(limit)) clock.advance(limit - clock.now())
    await settle()
  }
  if (!done) throw new Error(`still pending after ${maxMs} ms`)
  return promise
}
