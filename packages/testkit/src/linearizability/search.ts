// Wing–Gong–Lowe depth-first search for a linearization of one partition,
// following Porcupine's checkSingle: walk the time-ordered entries; a call
// entry seen before the first pending return is a candidate to linearize
// next; if the model accepts it and (linearized set, state) is new, lift it
// out and restart from the head; on reaching a return entry nothing more can
// go next, so undo the last choice and try the following candidate.
//
// Info operations (outcome unknown) differ: they have no return entry, so
// they are never forced, and they are tried only after every finished
// candidate at that point. Once all finished operations are placed the
// search succeeds: the info operations left over never took effect.
import type { Operation } from '../history.js'
import { buildEntries, lift, unlift } from './entries.js'
import type { Entry, EntryLists } from './entries.js'
import type { Model } from './model.js'
import { VisitedSet } from './visited.js'

/** Where the deepest branch of the search got stuck. */
export interface Stuck<State> {
  /** Operation indices, in linearization order, of the longest prefix found. */
  prefix: number[]
  /** Model state after that prefix. */
  state: State
  /** Operations that could have come next; none leads to a linearization. */
  candidates: number[]
  /** The operation whose return forces one of the candidates to come next. */
  deadline: number
}

export type SearchOutcome<State> =
  | { kind: 'ok'; steps: number }
  | { kind: 'illegal'; steps: number; stuck: Stuck<State> }
  | { kind: 'unknown'; steps: number }

/** One linearized operation on the search stack (a persistent list). */
interface Frame<State> {
  readonly node: Entry
  readonly stateBefore: State
  /** The first pending return when an info operation was chosen. */
  readonly barrier: Entry | null
  readonly prev: Frame<State> | null
  readonly depth: number
}

interface Deepest<State> {
  readonly top: Frame<State> | null
  readonly state: State
  readonly candidates: number[]
  readonly deadline: number
}

export function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  maxSteps: number,
): SearchOutcome<State> {
  return new WglSearch(model, ops).run(maxSteps)
}

class WglSearch<State, Input, Output> {
  private readonly lists: EntryLists
  private readonly visited: VisitedSet<State>
  private state: State
  private top: Frame<State> | null = null
  private deepest: Deepest<State> | null = null
  private finiteLeft: number
  // Cursor: walking finished entries (phase 1) or info calls (phase 2).
  private cursor: Entry | null
  private inInfoPhase = false
  private barrier: Entry | null = null

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly ops: readonly Operation<Input, Output>[],
  ) {
    this.lists = buildEntries(ops)
    this.visited = new VisitedSet<State>(ops.length, model)
    this.state = model.init()
    this.finiteLeft = this.lists.finiteCount
    this.cursor = this.lists.main.next
  }

  run(maxSteps: number): SearchOutcome<State> {
    let steps = 0
    while (this.finiteLeft > 0) {
      if (steps >= maxSteps) return { kind: 'unknown', steps }
      steps++
      if (!this.inInfoPhase) {
        // Invariant: while finished operations remain, the main list ends in a
        // return entry, so phase 1 meets one before running off the end.
        const node = this.cursor as Entry
        if (node.isCall) {
          if (!this.tryLinearize(node)) this.cursor = node.next
        } else {
          this.barrier = node
          this.inInfoPhase = true
          this.cursor = this.lists.info.next
        }
      } else if (this.cursor !== null && this.cursor.pos < (this.barrier as Entry).pos) {
        const node = this.cursor
        if (!this.tryLinearize(node)) this.cursor = node.next
      } else {
        this.noteStuck()
        if (this.top === null) return { kind: 'illegal', steps, stuck: this.stuckReport() }
        this.backtrack()
      }
    }
    return { kind: 'ok', steps }
  }

  private tryLinearize(node: Entry): boolean {
    const op = this.ops[node.op] as Operation<Input, Output>
    const unknown = op.outcome === 'info'
    const result = this.model.step(this.state, op.input, unknown ? undefined : op.output, unknown)
    if (!result.ok) return false
    this.visited.toggle(node.op)
    if (!this.visited.add(result.state)) {
      this.visited.toggle(node.op)
      return false
    }
    const depth = (this.top?.depth ?? 0) + 1
    this.top = { node, stateBefore: this.state, barrier: this.barrier, prev: this.top, depth }
    this.state = result.state
    lift(node)
    if (!unknown) this.finiteLeft--
    this.cursor = this.lists.main.next
    this.inInfoPhase = false
    return true
  }

  /** Undoes the last choice and resumes with the candidate after it. */
  private backtrack(): void {
    const frame = this.top as Frame<State>
    this.top = frame.prev
    this.state = frame.stateBefore
    this.visited.toggle(frame.node.op)
    unlift(frame.node)
    this.cursor = frame.node.next
    if (frame.node.match !== null) {
      this.finiteLeft++
      this.inInfoPhase = false
    } else {
      this.inInfoPhase = true
      this.barrier = frame.barrier
    }
  }

  /** Remembers the deepest dead end: the explanation of an illegal history. */
  private noteStuck(): void {
    const depth = this.top?.depth ?? 0
    if (this.deepest !== null && depth <= (this.deepest.top?.depth ?? 0)) return
    const barrier = this.barrier as Entry
    const candidates: number[] = []
    for (let e = this.lists.main.next; e !== null && e !== barrier; e = e.next) if (e.isCall) candidates.push(e.op)
    for (let e = this.lists.info.next; e !== null && e.pos < barrier.pos; e = e.next) candidates.push(e.op)
    this.deepest = { top: this.top, state: this.state, candidates, deadline: barrier.op }
  }

  private stuckReport(): Stuck<State> {
    const deepest = this.deepest as Deepest<State>
    const prefix: number[] = []
    for (let f = deepest.top; f !== null; f = f.prev) prefix.push(f.node.op)
    prefix.reverse()
    return { prefix, state: deepest.state, candidates: deepest.candidates, deadline: deepest.deadline }
  }
}
