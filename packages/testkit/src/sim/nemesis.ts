import type { Prng } from '../prng.js'
import type { LinkConfig } from './link-config.js'
import type { Cut } from './sim-network.js'
import type { SimWorld } from './sim-world.js'

export interface NemesisOptions {
  /** Mean virtual ms between two fault injections (default 1000). */
  intervalMs?: number
  /** How long a fault lasts before it is healed, uniform in [min, max] ms (default 200–2000). */
  durationMs?: { min: number; max: number }
  /** Symmetric splits, isolated nodes and one-way blocks. */
  partitions?: boolean
  /** A node crashes and restarts (with its disk) when the fault heals. */
  crashes?: boolean
  /** A node stalls (GC or event-loop pause) for the fault's duration. */
  pauses?: boolean
  /** A node's clock jumps by up to ±maxSkewMs and runs at 1 ± up to maxDrift. */
  clockSkew?: boolean | { maxSkewMs?: number; maxDrift?: number }
  /** Bursts of loss, duplication and reordering on a random pair of nodes (both ways). */
  flakyLinks?: boolean | Partial<LinkConfig>
  /** Nodes it may touch (default: every node of the world when it starts). */
  targets?: string[]
  /** Faults active at once (default 2). */
  maxActive?: number
  /** Nodes crashed or paused at once (default 1). */
  maxDown?: number
}

type FaultKind = 'partition' | 'crash' | 'pause' | 'clock' | 'flaky'

interface Fault {
  kind: FaultKind
  what: string
  /** Nodes this fault takes down (crash, pause) or whose clock it owns. */
  node?: string
  pair?: [string, string]
  ended: boolean
  heal(): void
}

const FLAKY: Partial<LinkConfig> = { dropProbability: 0.2, duplicateProbability: 0.1, reorderProbability: 0.3 }
const MAX_LOG = 1000

/**
 * Injects faults at seeded random times and heals each after a while:
 * partitions, crashes with restart, pauses, clock skew and flaky links. Every
 * action goes into the world's trace (so into its hash) and into `log`.
 */
export class Nemesis {
  /** What it did, oldest first (the latest MAX_LOG lines). */
  readonly log: string[] = []
  /** Faults injected so far, by kind. */
  readonly counts: Record<FaultKind, number> = { partition: 0, crash: 0, pause: 0, clock: 0, flaky: 0 }
  private readonly rng: Prng
  private readonly active = new Set<Fault>()
  private readonly kinds: FaultKind[]
  private generation = 0
  private running = false
  private targets: string[] = []

  constructor(
    private readonly world: SimWorld,
    private readonly options: NemesisOptions = {},
  ) {
    this.rng = world.prng.fork('nemesis')
    const o = options
    this.kinds = (
      [
        ['partition', o.partitions],
        ['crash', o.crashes],
        ['pause', o.pauses],
        ['clock', o.clockSkew],
        ['flaky', o.flakyLinks],
      ] as const
    )
      .filter(([, on]) => !!on)
      .map(([kind]) => kind)
  }

  /** Starts injecting faults, the first after a random gap. */
  start(): this {
    if (this.running) return this
    this.running = true
    this.targets = this.options.targets ?? this.world.nodeNames
    this.scheduleNext(++this.generation)
    return this
  }

  /** Stops injecting and heals every active fault now (crashed nodes restart). */
  stop(): void {
    this.running = false
    this.generation++
    for (const fault of [...this.active]) this.end(fault)
  }

  /** Faults in effect now. */
  get activeFaults(): string[] {
    return [...this.active].map((f) => f.what)
  }

  private scheduleNext(generation: number): void {
    const mean = this.options.intervalMs ?? 1000
    const gap = mean / 2 + this.rng.next() * mean
    this.world.after(gap, () => {
      if (generation !== this.generation) return
      this.inject()
      this.scheduleNext(generation)
    }, 'nemesis:tick')
  }

  private inject(): void {
    if (this.kinds.length === 0 || this.active.size >= (this.options.maxActive ?? 2)) return
    const kind = this.rng.pick(this.kinds)
    const duration = this.duration()
    const fault = this.make(kind, duration)
    if (fault === null) return
    this.active.add(fault)
    this.counts[kind]++
    this.say(`${fault.what} for ${duration}ms`)
    this.world.after(duration, () => this.end(fault), 'nemesis:heal')
  }

  private end(fault: Fault): void {
    if (fault.ended) return
    fault.ended = true
    this.active.delete(fault)
    fault.heal()
    this.say(`healed ${fault.what}`)
  }

  private make(kind: FaultKind, durationMs: number): Fault | null {
    switch (kind) {
      case 'partition':
        return this.partition()
      case 'crash': {
        const node = this.pickDownable()
        if (node === null) return null
        this.world.crash(node)
        return this.fault('crash', `crash ${node}`, () => {
          if (this.world.node(node).state === 'down') this.world.restart(node)
        }, { node })
      }
      case 'pause': {
        const node = this.pickDownable()
        if (node === null) return null
        this.world.pause(node, durationMs)
        return this.fault('pause', `pause ${node}`, () => {}, { node })
      }
      case 'clock':
        return this.clock()
      case 'flaky':
        return this.flaky()
    }
  }

  private partition(): Fault | null {
    const nodes = this.targets
    if (nodes.length < 2) return null
    const shape = this.rng.pick(['split', 'isolate', 'one-way'] as const)
    let cut: Cut
    let what: string
    if (shape === 'split') {
      const order = this.rng.shuffle([...nodes])
      const at = this.rng.range(1, order.length - 1)
      const a = order.slice(0, at)
      const b = order.slice(at)
      cut = this.world.network.partition(a, b)
      what = `partition [${a.join(',')}] | [${b.join(',')}]`
    } else if (shape === 'isolate') {
      const node = this.rng.pick(nodes)
      cut = this.world.network.isolate(node)
      what = `isolate ${node}`
    } else {
      const [from, to] = this.rng.shuffle([...nodes])
      cut = this.world.network.block(from!, to!)
      what = `block ${from}>${to}`
    }
    return this.fault('partition', what, () => this.world.network.restore(cut))
  }

  private clock(): Fault | null {
    const taken = new Set([...this.active].filter((f) => f.kind === 'clock').map((f) => f.node))
    const free = this.targets.filter((n) => !taken.has(n) && this.world.node(n).state !== 'down')
    if (free.length === 0) return null
    const node = this.rng.pick(free)
    const limits = typeof this.options.clockSkew === 'object' ? this.options.clockSkew : {}
    const maxSkew = limits.maxSkewMs ?? 500
    const maxDrift = limits.maxDrift ?? 0.001
    const model = this.world.node(node).clockModel
    const before = { skewMs: model.skewAt(this.world.now), rate: model.rate }
    const skewMs = round((this.rng.next() * 2 - 1) * maxSkew)
    const rate = 1 + round((this.rng.next() * 2 - 1) * maxDrift * 1e6) / 1e6
    this.world.setClock(node, { skewMs: before.skewMs + skewMs, rate })
    return this.fault('clock', `clock ${node} ${skewMs >= 0 ? '+' : ''}${skewMs}ms x${rate}`, () => this.world.setClock(node, before), { node })
  }

  private flaky(): Fault | null {
    const busy = new Set([...this.active].flatMap((f) => f.pair ?? []))
    const free = this.targets.filter((n) => !busy.has(n))
    if (free.length < 2) return null
    const [a, b] = this.rng.shuffle([...free]) as [string, string]
    const config = typeof this.options.flakyLinks === 'object' ? this.options.flakyLinks : FLAKY
    const net = this.world.network
    const saved = [net.linkOverride(a, b), net.linkOverride(b, a)] as const
    net.setLink(a, b, config)
    net.setLink(b, a, config)
    return this.fault('flaky', `flaky ${a}<>${b}`, () => {
      net.clearLink(a, b)
      net.clearLink(b, a)
      if (saved[0]) net.setLink(a, b, saved[0])
      if (saved[1]) net.setLink(b, a, saved[1])
    }, { pair: [a, b] })
  }

  /** An up, unpaused target, unless `maxDown` nodes are already down or paused. */
  private pickDownable(): string | null {
    const down = [...this.active].filter((f) => f.kind === 'crash' || f.kind === 'pause').length
    if (down >= (this.options.maxDown ?? 1)) return null
    const candidates = this.targets.filter((n) => this.world.node(n).up && !this.world.node(n).paused)
    return candidates.length === 0 ? null : this.rng.pick(candidates)
  }

  private fault(kind: FaultKind, what: string, heal: () => void, extra: { node?: string; pair?: [string, string] } = {}): Fault {
    return { kind, what, heal, ended: false, ...extra }
  }

  private duration(): number {
    const d = this.options.durationMs ?? { min: 200, max: 2000 }
    return round(d.min + this.rng.next() * (d.max - d.min))
  }

  private say(what: string): void {
    const line = `${this.world.now}: ${what}`
    this.log.push(line)
    if (this.log.length > MAX_LOG) this.log.shift()
    this.world.note(`nemesis ${what}`)
  }
}

function round(x: number): number {
  return Math.round(x)
}
