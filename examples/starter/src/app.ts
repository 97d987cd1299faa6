// What the starter app is made of: a sharded entity, a Raft state machine
// and a saga over both. Nothing here knows about processes or sockets.
import { defineActor } from '@troupe/runtime'
import type { RaftGroup, StateMachine } from '@troupe/raft'
import { saga } from '@troupe/saga'

/** An entity: one counter per id, active on one node of the cluster at a time, reached from any. */
export const Counter = defineActor({
  name: 'counter',
  initial: () => ({ count: 0 }),
  handlers: {
    add(state, by: number) {
      state.count += by
      return state.count
    },
  },
})

type KvCommand = { op: 'put' | 'claim' | 'release'; key: string; value: string }
/** A replicated key-value map (Raft group 'kv'): writes and reads are linearizable and survive restarts. */
export class Kv implements StateMachine<KvCommand, boolean, string, string | null> {
  private map = new Map<string, string>()
  apply(c: KvCommand): boolean {
    const held = this.map.get(c.key)
    if (c.op === 'release') return held === c.value && this.map.delete(c.key) // only the claimer's own claim
    if (c.op === 'claim' && held !== undefined) return held === c.value // a retried claim is no conflict
    this.map.set(c.key, c.value)
    return true
  }
  snapshot() {
    return [...this.map]
  }
  restore(s: unknown) {
    this.map = new Map(s as [string, string][])
  }
  query(key: string) {
    return this.map.get(key) ?? null
  }
}
export type KvGroup = RaftGroup<KvCommand, boolean, string, string | null>

/** A saga: claim a user name in the kv group, then open the user's counter; a failure undoes the claim. */
export function signupSaga(kv: () => Promise<KvGroup>, counter: (id: string) => { ask(m: 'add', by: number): Promise<number> }) {
  return saga<{ name: string; failAtTheEnd?: boolean }>('signup')
    .step('claim', {
      do: async ({ name }, ctx) => {
        if (!(await (await kv()).propose({ op: 'claim', key: `user/${name}`, value: ctx.sagaId }))) throw new Error(`name ${name} is taken`)
      },
      undo: async ({ name }, ctx) => void (await (await kv()).propose({ op: 'release', key: `user/${name}`, value: ctx.sagaId })),
    })
    .step('counter', { do: ({ name }) => counter(`visits-${name}`).ask('add', 1) })
    .step('welcome', {
      do: ({ failAtTheEnd }) => {
        if (failAtTheEnd) throw new Error('the welcome mail bounced')
        return 'welcome'
      },
      retry: { attempts: 1 },
    })
}
