// Wing–Gong–Lowe depth-first search for a linearization of one partition,
// following Porcupine's checkSingle: walk the time-ordered entries; a call
// entry seen before the first pending return is a candidate to linearize
// next; if the model accepts it and the configuration is new, lift it out and
// restart from the head; on reaching a return entry nothing more can go next,
// so undo the last choice and try the following candidate.
//
// Three refinements:
// - Reads first. If a read-only candidate (model.isReadOnly) fits the
//   current state, it goes next and nothing else is tried here: any
//   linearization that places it later can move it to the front, since it
//   changes nothing and every operation that must precede it already does.
//   This removes most dead ends of the "write first, then the read that saw
//   the old value fails" kind.
// - Info operations (outcome unknown) have no return entry, so they are
//   never forced; they are tried only at a dead end, after every finished
//   candidate, and once all finished operations are placed the search
//   succeeds: the info operations left over never took effect.
// - At a dead end all info candidates are stepped and entered into the
//   visited set before the search descends into any of them; a chain like
//   "info put 1, info put 2" is then pruned because "info put 2" alone
//   reached the same state with fewer info operations used (visited.ts),
//   instead of every subset of the pending info writes being searched.
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
  /** A read placed by the reads-first rule: its siblings need no search. */
  readonly forced: boolean
  /** For an info operation: the dead end's choices and which one this is. */
  readonly choices: readonly InfoChoice<State>[]
  readonly choiceIndex: number
  /** For an info operation: the dead end's first pending return. */
  readonly barrier: Entry | null
  readonly prev: Frame<State> | null
  readonly depth: number
  /** How many finished (not info) operations are linearized up to here. */
  readonly finiteDepth: number
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

/**
 * fresh: just entered a configuration; look for a read that fits.
 * finished: walking finished candidates from `cursor`.
 * info: at a dead end, going through the prepared info `choices`.
 * exhausted: nothing left to try here; undo the last choice.
 */
type Phase = 'fresh' | 'finished' | 'info' | 'exhausted'

class WglSearch<State, Input, Output> {
  private readonly lists: EntryLists
  private readonly visited: VisitedSet<State>
  private readonly readOnly: boolean[]
  private state: State
  private top: Frame<State> | null = null
  private deepest: Deepest<State> | null = null
  private finiteLeft: number
  private steps = 0
  private phase: Phase = 'fresh'
  private cursor: Entry | null = null
  private choices: readonly InfoChoice<State>[] = []
  private choiceIndex = 0
  /** In the info phase: the first pending return, which bounds the candidates. */
  private barrier: Entry | null = null

  constructor(
    private readonly model: Model<State, Input, Output>,
    private readonly ops: readonly Operation<Input, Output>[],
  ) {
    this.lists = buildEntries(ops)
    this.visited = new VisitedSet<State>(ops, model)
    this.readOnly = ops.map((op) => op.outcome === 'ok' && model.isReadOnly?.(op.input) === true)
    this.state = model.init()
    this.finiteLeft = this.lists.finiteCount
    // The root is a configuration too: an info operation that changes nothing
    // at the start is then pruned like anywhere else.
    this.visited.enter(this.state)
  }

  run(maxSteps: number): SearchOutcome<State> {
    while (this.finiteLeft > 0) {
      if (this.steps >= maxSteps) return { kind: 'unknown', steps: this.steps }
      this.steps++
      switch (this.phase) {
        case 'fresh':
          this.tryReadFirst()
          break
        case 'finished': {
          // Invariant: while finished operations remain, the main list ends in
          // a return entry, so this walk meets one before running off the end.
          const node = this.cursor as Entry
          if (!node.isCall) this.prepareInfoChoices(node)
          else if (!this.tryFinished(node)) this.cursor = node.next
          break
        }
        case 'info':
          if (this.choiceIndex < this.choices.length) {
            this.descend(this.choices[this.choiceIndex] as InfoChoice<State>)
          } else {
            this.noteStuck()
            if (this.top === null) return this.illegal()
            this.backtrack()
          }
          break
        case 'exhausted':
          if (this.top === null) return this.illegal()
          this.backtrack()
          break
      }
    }
    return { kind: 'ok', steps: this.steps }
  }

  private stepModel(node: Entry): { ok: boolean; state: State } {
    const op = this.ops[node.op] as Operation<Input, Output>
    const unknown = op.outcome === 'info'
    return this.model.step(this.state, op.input, unknown ? undefined : op.output, unknown)
  }

  /** The reads-first rule: place a fitting read-only candidate, or fall through. */
  private tryReadFirst(): void {
    for (let e = this.lists.main.next; e !== null && e.isCall; e = e.next) {
      if (!this.readOnly[e.op]) continue
      this.steps++
      if (!this.stepModel(e).ok) continue
      this.visited.toggle(e.op)
      if (this.visited.enter(this.state)) {
        this.push(e, this.state, true, [], 0)
      } else {
        // Dominated: its search is done or under way elsewhere, and this
        // configuration has nothing better to offer than placing the read.
        this.visited.toggle(e.op)
        this.phase = 'exhausted'
      }
      return
    }
    this.phase = 'finished'
    this.cursor = this.lists.main.next
  }

  /** Linearizes a finished operation next if the model and the memo allow. */
  private tryFinished(node: Entry): boolean {
    // A read that fitted here would have been placed by the reads-first rule.
    if (this.readOnly[node.op]) return false
    const result = this.stepModel(node)
    if (!result.ok) return false
    this.visited.toggle(node.op)
    if (!this.visited.enter(result.state)) {
      this.visited.toggle(node.op)
      return false
    }
    this.push(node, result.state, false, [], 0)
    return true
  }

  /** Dead end for finished operations: collect the info operations that could go here. */
  private prepareInfoChoices(barrier: Entry): void {
    const choices: InfoChoice<State>[] = []
    for (let e = this.lists.info.next; e !== null && e.pos < barrier.pos; e = e.next) {
      this.steps++
      const result = this.stepModel(e)
      // Changing nothing is dominated by not taking it (see visited.ts); this
      // is the common case (failed compare-and-sets), so skip the memo.
      if (!result.ok || this.model.equal(result.state, this.state)) continue
      this.visited.toggle(e.op)
      if (this.visited.enter(result.state)) choices.push({ node: e, state: result.state })
      this.visited.toggle(e.op)
    }
    this.phase = 'info'
    this.barrier = barrier
    this.choices = choices
    this.choiceIndex = 0
  }

  private descend(choice: InfoChoice<State>): void {
    this.visited.toggle(choice.node.op)
    this.push(choice.node, choice.state, false, this.choices, this.choiceIndex)
  }

  private push(node: Entry, state: State, forced: boolean, choices: readonly InfoChoice<State>[], choiceIndex: number): void {
    const prev = this.top
    const info = node.match === null
    const depth = (prev?.depth ?? 0) + 1
    const finiteDepth = (prev?.finiteDepth ?? 0) + (info ? 0 : 1)
    const barrier = info ? this.barrier : null
    this.top = { node, stateBefore: this.state, forced, choices, choiceIndex, barrier, prev, depth, finiteDepth }
    this.state = state
    lift(node)
    if (!info) this.finiteLeft--
    this.phase = 'fresh'
  }

  /** Undoes the last choice and resumes with the candidate after it. */
  private backtrack(): void {
    const frame = this.top as Frame<State>
    this.top = frame.prev
    this.state = frame.stateBefore
    this.visited.toggle(frame.node.op)
    unlift(frame.node)
    if (frame.node.match === null) {
      this.phase = 'info'
      this.choices = frame.choices
      this.choiceIndex = frame.choiceIndex + 1
      this.barrier = frame.barrier
      return
    }
    this.finiteLeft++
    if (frame.forced) {
      this.phase = 'exhausted'
    } else {
      this.phase = 'finished'
      this.cursor = frame.node.next
    }
  }

  /**
   * Remembers the deepest dead end, the explanation of an illegal history:
   * most finished operations placed, then fewest info operations guessed in.
   */
  private noteStuck(): void {
    if (this.deepest !== null) {
      const finite = this.top?.finiteDepth ?? 0
      const bestFinite = this.deepest.top?.finiteDepth ?? 0
      if (finite < bestFinite) return
      if (finite === bestFinite && (this.top?.depth ?? 0) >= (this.deepest.top?.depth ?? 0)) return
    }
    let barrier = this.lists.main.next as Entry
    while (barrier.isCall) barrier = barrier.next as Entry
    const candidates: number[] = []
    for (let e = this.lists.main.next; e !== null && e !== barrier; e = e.next) if (e.isCall) candidates.push(e.op)
    for (let e = this.lists.info.next; e !== null && e.pos < barrier.pos; e = e.next) candidates.push(e.op)
    this.deepest = { top: this.top, state: this.state, candidates, deadline: barrier.op }
  }

  private illegal(): SearchOutcome<State> {
    if (this.deepest === null) this.noteStuck()
    const deepest = this.deepest as Deepest<State>
    const prefix: number[] = []
    for (let f = deepest.top; f !== null; f = f.prev) prefix.push(f.node.op)
    prefix.reverse()
    const stuck = { prefix, state: deepest.state, candidates: deepest.candidates, deadline: deepest.deadline }
    return { kind: 'illegal', steps: this.steps, stuck }
  }
}
