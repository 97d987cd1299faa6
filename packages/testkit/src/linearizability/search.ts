// Wing–Gong–Lowe depth-first search for a linearization of one partition,
// following Porcupine's checkSingle: walk the time-ordered entries; a call
// entry seen before the first pending return is a candidate to linearize
// next; if the model accepts it and the configuration is new, lift it out and
// restart from the head; on reaching a return entry nothing more can go next,
// so undo the last choice and try the following candidate.
//
// Info operations (outcome unknown) differ: they have no return entry, so
// they are never forced. They are tried only at a dead end, after every
// finished candidate, and once all finished operations are placed the search
// succeeds: the info operations left over never took effect. At a dead end
// all info candidates are stepped and entered into the visited set before
// the search descends into any of them; then a chain like "info put 1, info
// put 2" is pruned because "info put 2" alone reached the same state with
// fewer info operations used (see visited.ts), instead of every subset of the
// pending info writes being searched.
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

/** An info operation the model accepts at a dead end, already entered as visited. */
interface InfoChoice<State> {
  readonly node: Entry
  readonly state: State
}

/** One linearized operation on the search stack (a persistent list). */
interface Frame<State> {
  readonly node: Entry
  readonly stateBefore: State
  /** For an info operation: the dead end's choices and which one this is. */
  readonly choices: readonly InfoChoice<State>[] | null
  readonly choiceIndex: number
  /** For an info operation: the dead end's first pending return. */
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
  private steps = 0
  // Phase 1 walks finished entries from `cursor`; phase 2 (at a dead end)
  // goes through the prepared info `choices` from `choiceIndex`.
  private cursor: Entry | null
  private choices: readonly InfoChoice<State>[] | null = null
  private choiceIndex = 0
  /** In phase 2: the first pending return, which bounds the candidates. */
  private barrier: Entry | null = null

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly ops: readonly Operation<Input, Output>[],
  ) {
    this.lists = buildEntries(ops)
    this.visited = new VisitedSet<State>(
      ops.map((op) => op.outcome === 'info'),
      model,
    )
    this.state = model.init()
    this.finiteLeft = this.lists.finiteCount
    this.cursor = this.lists.main.next
  }

  run(maxSteps: number): SearchOutcome<State> {
    while (this.finiteLeft > 0) {
      if (this.steps >= maxSteps) return { kind: 'unknown', steps: this.steps }
      this.steps++
      if (this.choices === null) {
        // Invariant: while finished operations remain, the main list ends in a
        // return entry, so phase 1 meets one before running off the end.
        const node = this.cursor as Entry
        if (!node.isCall) this.prepareInfoChoices(node)
        else if (!this.tryFinished(node)) this.cursor = node.next
      } else if (this.choiceIndex < this.choices.length) {
        this.descend(this.choices[this.choiceIndex] as InfoChoice<State>)
      } else {
        this.noteStuck()
        if (this.top === null) return { kind: 'illegal', steps: this.steps, stuck: this.stuckReport() }
        this.backtrack()
      }
    }
    return { kind: 'ok', steps: this.steps }
  }

  private stepModel(node: Entry): { ok: boolean; state: State } {
    const op = this.ops[node.op] as Operation<Input, Output>
    const unknown = op.outcome === 'info'
    return this.model.step(this.state, op.input, unknown ? undefined : op.output, unknown)
  }

  /** Linearizes a finished operation next if the model and the memo allow. */
  private tryFinished(node: Entry): boolean {
    const result = this.stepModel(node)
    if (!result.ok) return false
    this.visited.toggle(node.op)
    if (!this.visited.enter(result.state)) {
      this.visited.toggle(node.op)
      return false
    }
    this.push(node, result.state, null, 0)
    this.finiteLeft--
    return true
  }

  /** Dead end for finished operations: collect the info operations that could go here. */
  private prepareInfoChoices(barrier: Entry): void {
    const choices: InfoChoice<State>[] = []
    for (let e = this.lists.info.next; e !== null && e.pos < barrier.pos; e = e.next) {
      this.steps++
      const result = this.stepModel(e)
      if (!result.ok) continue
      this.visited.toggle(e.op)
      if (this.visited.enter(result.state)) choices.push({ node: e, state: result.state })
      this.visited.toggle(e.op)
    }
    this.barrier = barrier
    this.choices = choices
    this.choiceIndex = 0
  }

  private descend(choice: InfoChoice<State>): void {
    this.visited.toggle(choice.node.op)
    this.push(choice.node, choice.state, this.choices, this.choiceIndex)
  }

  private push(node: Entry, state: State, choices: readonly InfoChoice<State>[] | null, choiceIndex: number): void {
    const depth = (this.top?.depth ?? 0) + 1
    this.top = { node, stateBefore: this.state, choices, choiceIndex, barrier: this.barrier, prev: this.top, depth }
    this.state = state
    lift(node)
    this.cursor = this.lists.main.next
    this.choices = null
  }

  /** Undoes the last choice and resumes with the candidate after it. */
  private backtrack(): void {
    const frame = this.top as Frame<State>
    this.top = frame.prev
    this.state = frame.stateBefore
    this.visited.toggle(frame.node.op)
    unlift(frame.node)
    if (frame.choices === null) {
      this.finiteLeft++
      this.cursor = frame.node.next
      this.choices = null
    } else {
      this.choices = frame.choices
      this.choiceIndex = frame.choiceIndex + 1
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
