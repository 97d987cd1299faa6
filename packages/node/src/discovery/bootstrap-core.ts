// The Cluster Bootstrap decision without I/O (Akka Management's Cluster
// Bootstrap is the model): discovery answers and probe answers go in, each
// with the time it was taken; `decide(now)` says wait, join these seeds, or
// form a new cluster. The driver (bootstrap-driver.ts) does the lookups,
// the probes and the timers.
import { contactKey } from './contact.js'
import type { Contact } from './contact.js'
import type { ProbeAnswer } from './probe-answer.js'
import type { BootstrapTunables } from './bootstrap-tunables.js'

export interface SeedRef {
  readonly node: string
  readonly address: string
}

export type Decision =
  | { readonly kind: 'wait'; readonly reason: string }
  /** Join the cluster `via` (a contact key) reported, through its members. */
  | { readonly kind: 'join'; readonly seeds: SeedRef[]; readonly via: string }
  /** Form a new cluster: this node is the lowest-address contact and nobody is in one. */
  | { readonly kind: 'form'; readonly contacts: string[] }

interface ProbeRecord {
  /** The latest successful probe, by the time it was sent. */
  ok?: { sentAtMs: number; answer: ProbeAnswer }
  /** When the latest failed probe was sent. */
  failedAtMs?: number
}

/** Leader order of the runtime's membership (cluster/member.ts `compareByAddress`): lowest address, then node name. */
export function compareByAddress(a: SeedRef, b: SeedRef): number {
  if (a.address !== b.address) return a.address < b.address ? -1 : 1
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0
}

export class BootstrapCore {
  private contactList: Contact[] = []
  private setKey = ''
  /** When the current contact set was first seen after a failure or a change; null: no usable answer. */
  private stableSinceMs: number | null = null
  private readonly probes = new Map<string, ProbeRecord>()

  constructor(
    readonly self: SeedRef,
    readonly tunables: BootstrapTunables,
  ) {}

  /** The contacts of the latest successful lookup, sorted. */
  get contacts(): readonly Contact[] {
    return this.contactList
  }

  onDiscovery(nowMs: number, contacts: readonly Contact[]): void {
    const key = contacts.map(contactKey).join(',')
    if (this.stableSinceMs === null || key !== this.setKey) this.stableSinceMs = nowMs
    this.setKey = key
    this.contactList = [...contacts]
    const keep = new Set(contacts.map(contactKey))
    for (const k of this.probes.keys()) if (!keep.has(k)) this.probes.delete(k)
  }

  /** A failed lookup: the set is no longer known to be stable; the next answer starts a new margin. */
  onDiscoveryFailed(): void {
    this.stableSinceMs = null
  }

  onProbe(key: string, sentAtMs: number, answer: ProbeAnswer): void {
    const r = this.record(key)
    if (r === undefined || (r.ok !== undefined && r.ok.sentAtMs > sentAtMs)) return
    r.ok = { sentAtMs, answer }
  }

  onProbeFailed(key: string, sentAtMs: number): void {
    const r = this.record(key)
    if (r === undefined) return
    r.failedAtMs = Math.max(r.failedAtMs ?? -Infinity, sentAtMs)
  }

  decide(nowMs: number): Decision {
    const join = this.joinTarget()
    if (join !== null) return join
    const t = this.tunables
    if (this.stableSinceMs === null) return wait('no discovery answer since the last failure')
    const n = this.contactList.length
    if (n < t.requiredContactPoints) return wait(`${n} of ${t.requiredContactPoints} required contact points discovered`)
    const stableMs = nowMs - this.stableSinceMs
    if (stableMs < t.stableMarginMs) return wait(`contacts stable for ${stableMs} of ${t.stableMarginMs} ms`)
    const answers: ProbeAnswer[] = []
    for (const c of this.contactList) {
      const key = contactKey(c)
      const r = this.probes.get(key)
      const ok = r?.ok
      if (ok === undefined || ok.sentAtMs < nowMs - t.probeFreshMs || (r!.failedAtMs ?? -Infinity) > ok.sentAtMs) {
        return wait(`no fresh probe answer from ${key}`)
      }
      answers.push(ok.answer)
    }
    const selfAnswer = answers.find((a) => a.node === this.self.node && a.address === this.self.address)
    if (selfAnswer === undefined) return wait('this node is not among the discovered contacts')
    const lowest = answers.reduce((lo, a) => (compareByAddress(a, lo) < 0 ? a : lo))
    if (lowest !== selfAnswer && compareByAddress(lowest, selfAnswer) !== 0) return wait(`${lowest.node} (${lowest.address}) has the lowest address and forms`)
    return { kind: 'form', contacts: this.contactList.map(contactKey) }
  }

  /** The largest cluster any contact reported being in (its members but this node), or null. */
  private joinTarget(): Decision | null {
    let best: { via: string; seeds: SeedRef[] } | null = null
    for (const [key, r] of this.probes) {
      const members = r.ok?.answer.members.filter((m) => m.node !== this.self.node) ?? []
      if (members.length === 0) continue
      if (best === null || members.length > best.seeds.length || (members.length === best.seeds.length && key < best.via)) {
        best = { via: key, seeds: [...members].sort(compareByAddress) }
      }
    }
    return best === null ? null : { kind: 'join', seeds: best.seeds, via: best.via }
  }

  private record(key: string): ProbeRecord | undefined {
    if (!this.contactList.some((c) => contactKey(c) === key)) return undefined
    let r = this.probes.get(key)
    if (r === undefined) this.probes.set(key, (r = {}))
    return r
  }
}

function wait(reason: string): Decision {
  return { kind: 'wait', reason }
}
