import type { CellMailbox } from './cell-mailbox.js'
import { RingQueue } from './queue.js'

export interface DispatcherOptions {
  /** Messages one actor handles before the next ready actor gets a turn. */
  throughput: number
  /** Messages handled in one go before yielding to I/O (a macrotask). */
  turnBudget: number
  /** Runs `fn` soon, after pending I/O: setImmediate for real, the simulator's queue in tests. */
  yieldTurn: (fn: () => void) => void
  /** Runs `fn` right after the current work (queueMicrotask by default); the simulator may reorder. */
  scheduleDrain: (fn: () => void) => void
}

/**
 * One run queue of ready actors per system. A single microtask drains many
 * actors in batches (not one microtask per message); after `turnBudget`
 * messages it yields with a macrotask so sockets and timers are not starved.
 */
export class Dispatcher {
  private readonly ready = new RingQueue<CellMailbox>(64)
  private pending = false
  private halted = false
  private readonly drain = () => this.run()

  constructor(private readonly options: DispatcherOptions) {}

  schedule(cell: CellMailbox): void {
    if (this.halted) return
    cell.scheduled = true
    this.ready.push(cell)
    if (!this.pending) {
      this.pending = true
      this.options.scheduleDrain(this.drain)
    }
  }

  /** Runs nothing more, ever (a crashed node). */
  halt(): void {
    this.halted = true
    while (this.ready.shift() !== undefined) {
      /* drop */
    }
  }

  /** True when no actor is waiting to run. */
  get idle(): boolean {
    return !this.pending
  }

  private run(): void {
    if (this.halted) return
    const { throughput, turnBudget } = this.options
    let handled = 0
    while (handled < turnBudget) {
      const cell = this.ready.shift()
      if (cell === undefined) break
      // The cell stays marked scheduled while it runs, so messages it sends
      // itself do not queue it twice; it goes to the back if work remains.
      handled += cell.processBatch(throughput)
      if (cell.hasWork()) this.ready.push(cell)
      else cell.scheduled = false
    }
    if (this.ready.length > 0) this.options.yieldTurn(this.drain)
    else this.pending = false
  }
}
