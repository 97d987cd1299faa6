import { BootstrapCore } from './bootstrap-core.js'
import type { Decision, SeedRef } from './bootstrap-core.js'
import type { BootstrapTunables } from './bootstrap-tunables.js'
import { contactKey } from './contact.js'
import type { Contact } from './contact.js'
import { DiscoveryError } from './discovery-error.js'
import type { Discovery } from './discovery-method.js'
import type { ProbeAnswer } from './probe-answer.js'

export type LogFn = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object) => void

export interface BootstrapTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Asks one contact what it is and which cluster it is in; rejects (any error) when it cannot tell. */
export type ProbeFn = (contact: Contact, signal: AbortSignal) => Promise<ProbeAnswer>

export interface BootstrapDriverInput {
  readonly self: SeedRef
  readonly discovery: Discovery
  readonly probe: ProbeFn
  readonly clock: { now(): number }
  readonly timers: BootstrapTimers
  readonly log: LogFn
  readonly tunables: BootstrapTunables
  readonly signal?: AbortSignal
  /** Sees every decision the core makes (tests count them). */
  readonly onDecision?: (decision: Decision) => void
}

/** A lookup still running after this many intervals is aborted (its backend has its own, shorter timeouts). */
const LOOKUP_TIMEOUT_FACTOR = 5
/** Distinct contacts remembered as probed (past it the memory starts over: at worst an extra probe). */
const MAX_PROBED_KEYS = 4096

export type FinalDecision = Exclude<Decision, { kind: 'wait' }>

/**
 * Runs Cluster Bootstrap until it decides: asks discovery every
 * `lookupIntervalMs` (one lookup at a time), probes every discovered contact
 * every `probeIntervalMs` (one probe in flight per contact, each bounded by
 * `probeTimeoutMs`), and asks the core after every answer and every probe
 * round. A failing discovery is logged and asked again; it never ends the
 * run. Rejects BOOTSTRAP_ABORTED when `signal` aborts.
 */
export function runBootstrap(input: BootstrapDriverInput): Promise<FinalDecision> {
  const { clock, timers, log, tunables: t } = input
  const core = new BootstrapCore(input.self, t)
  const inFlight = new Map<string, AbortController>()
  const handles = new Set<unknown>()
  /** Contacts probed at least once (bounded: discovery answers are). */
  const probed = new Set<string>()
  let lookupAbort: AbortController | null = null
  let done = false
  let failures = 0
  let lastReason = ''

  return new Promise<FinalDecision>((resolve, reject) => {
    const finish = (outcome: { decision: FinalDecision } | { error: unknown }) => {
      if (done) return
      done = true
      for (const h of handles) timers.clearTimeout(h)
      handles.clear()
      for (const c of inFlight.values()) c.abort()
      lookupAbort?.abort()
      input.signal?.removeEventListener('abort', onAbort)
      if ('decision' in outcome) resolve(outcome.decision)
      else reject(outcome.error)
    }
    const onAbort = () => finish({ error: new DiscoveryError('BOOTSTRAP_ABORTED', input.discovery.backend, 'bootstrap was aborted before it decided') })
    const after = (ms: number, fn: () => void): unknown => {
      const h = timers.setTimeout(() => {
        handles.delete(h)
        if (!done) fn()
      }, ms)
      handles.add(h)
      return h
    }
    const cancel = (h: unknown) => {
      if (handles.delete(h)) timers.clearTimeout(h)
    }
    const decide = () => {
      if (done) return
      const decision = core.decide(clock.now())
      input.onDecision?.(decision)
      if (decision.kind === 'wait') {
        if (decision.reason !== lastReason) log('debug', 'bootstrap waits', { reason: decision.reason })
        lastReason = decision.reason
        return
      }
      log('info', decision.kind === 'form' ? 'bootstrap forms a new cluster' : 'bootstrap joins a cluster', decision)
      finish({ decision })
    }
    const lookup = () => {
      const controller = new AbortController()
      lookupAbort = controller
      const timeout = after(LOOKUP_TIMEOUT_FACTOR * Math.max(t.lookupIntervalMs, t.probeTimeoutMs), () => controller.abort())
      input.discovery.lookup(controller.signal).then(
        (contacts) => {
          cancel(timeout)
          if (done) return
          if (failures > 0) log('info', 'discovery answers again', { backend: input.discovery.backend, after: failures })
          failures = 0
          core.onDiscovery(clock.now(), contacts)
          // A contact seen for the first time is probed at once rather than at the next round.
          for (const c of core.contacts) if (!probed.has(contactKey(c))) probeOne(c)
          decide()
          after(t.lookupIntervalMs, lookup)
        },
        (err: unknown) => {
          cancel(timeout)
          if (done) return
          failures++
          core.onDiscoveryFailed()
          log(failures === 1 ? 'warn' : 'debug', 'discovery failed; asking again', { backend: input.discovery.backend, failures, error: String(err) })
          after(t.lookupIntervalMs, lookup)
        },
      )
    }
    const probeRound = () => {
      for (const contact of core.contacts) probeOne(contact)
      decide()
      after(t.probeIntervalMs, probeRound)
    }
    const probeOne = (contact: Contact) => {
      const key = contactKey(contact)
      if (inFlight.has(key)) return
      if (probed.size >= MAX_PROBED_KEYS) probed.clear()
      probed.add(key)
      const controller = new AbortController()
      inFlight.set(key, controller)
      const sentAtMs = clock.now()
      let settled = false
      const settle = (answer: ProbeAnswer | null, err?: unknown) => {
        if (settled || done) return
        settled = true
        cancel(timeout)
        inFlight.delete(key)
        if (answer !== null) core.onProbe(key, sentAtMs, answer)
        else {
          core.onProbeFailed(key, sentAtMs)
          log('debug', 'probe failed', { contact: key, error: String(err) })
        }
        decide()
      }
      const timeout = after(t.probeTimeoutMs, () => {
        controller.abort()
        settle(null, 'timeout')
      })
      input.probe(contact, controller.signal).then(
        (answer) => settle(answer),
        (err: unknown) => settle(null, err),
      )
    }

    if (input.signal?.aborted) return onAbort()
    input.signal?.addEventListener('abort', onAbort, { once: true })
    lookup()
    after(t.probeIntervalMs, probeRound)
  })
}
