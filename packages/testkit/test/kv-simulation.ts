// A simulated linearizable key-value store driven by concurrent clients, for
// checker tests: each tick one random client invokes, applies (atomically, the
// true linearization point) or returns. Some requests fail cleanly, some time
// out (info) after, before or without taking effect, some take effect late.
import { HistoryRecorder } from '../src/history.js'
import type { Operation } from '../src/history.js'
import type { KvInput } from '../src/linearizability/kv-model.js'
import { sameValue } from '../src/linearizability/value.js'
import { Prng } from '../src/prng.js'

export type KvOp = Operation<KvInput<string, number>, unknown>

export interface KvSimulationOptions {
  seed: number
  clients: number
  keys: number
  operations: number
  /** Chance that an operation ends as info (split over the info fates). */
  infoRate: number
  failRate: number
}

type Fate = 'ok' | 'fail' | 'info-applied' | 'info-lost' | 'info-late'

type Client =
  | { phase: 'idle' }
  | { phase: 'called'; opId: number; input: KvInput<string, number>; fate: Fate }
  | { phase: 'applied'; opId: number; input: KvInput<string, number>; fate: Fate; output: unknown }

export function simulateKv(options: KvSimulationOptions): KvOp[] {
  const rng = new Prng(options.seed)
  let now = 0
  const rec = new HistoryRecorder<KvInput<string, number>, unknown>(() => now)
  const store = new Map<string, number>()
  const clients: Client[] = Array.from({ length: options.clients }, () => ({ phase: 'idle' }))
  const lastSeen = clients.map(() => new Map<string, number | undefined>())
  const late: KvInput<string, number>[] = []
  let started = 0
  let nextValue = 1

  const apply = (input: KvInput<string, number>): unknown => {
    const current = store.get(input.key)
    switch (input.op) {
      case 'get':
        return current
      case 'put':
        store.set(input.key, input.value)
        return undefined
      case 'cas':
        if (!sameValue(current, input.expected)) return false
        store.set(input.key, input.value)
        return true
      case 'delete':
        return store.delete(input.key)
      case 'append':
        throw new Error('not simulated')
    }
  }
  const chooseInput = (c: number): KvInput<string, number> => {
    const key = `k${rng.int(options.keys)}`
    const r = rng.next()
    if (r < 0.5) return { op: 'get', key }
    if (r < 0.8) return { op: 'put', key, value: nextValue++ }
    if (r < 0.95) return { op: 'cas', key, expected: lastSeen[c]!.get(key), value: nextValue++ }
    return { op: 'delete', key }
  }
  const chooseFate = (): Fate => {
    const r = rng.next()
    if (r < options.failRate) return 'fail'
    if (r < options.failRate + options.infoRate) return rng.pick(['info-applied', 'info-lost', 'info-late'] as const)
    return 'ok'
  }

  while (started < options.operations || clients.some((c) => c.phase !== 'idle')) {
    now++
    if (late.length > 0 && rng.chance(0.02)) apply(late.splice(rng.int(late.length), 1)[0]!)
    const c = rng.int(clients.length)
    const client = clients[c]!
    if (client.phase === 'idle') {
      if (started >= options.operations) continue
      started++
      const input = chooseInput(c)
      clients[c] = { phase: 'called', opId: rec.invoke(c, input), input, fate: chooseFate() }
    } else if (client.phase === 'called') {
      const { opId, input, fate } = client
      if (fate === 'fail' || fate === 'info-lost' || fate === 'info-late') {
        if (fate === 'fail') rec.fail(opId, new Error('rejected'))
        else rec.info(opId)
        if (fate === 'info-late') late.push(input)
        clients[c] = { phase: 'idle' }
      } else {
        clients[c] = { ...client, phase: 'applied', output: apply(input) }
      }
    } else {
      if (client.fate === 'info-applied') {
        rec.info(client.opId)
      } else {
        rec.ok(client.opId, client.output)
        const { input, output } = client
        if (input.op === 'get') lastSeen[c]!.set(input.key, output as number | undefined)
        if (input.op === 'put') lastSeen[c]!.set(input.key, input.value)
      }
      clients[c] = { phase: 'idle' }
    }
  }
  return rec.operations()
}
