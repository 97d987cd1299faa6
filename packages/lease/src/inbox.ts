import { defineActor } from '@troupe/runtime'

/** The hint a leader sends to a waiter that reached the head of its queue and now holds the lease. */
export interface GrantHint {
  name: string
  clientId: string
  requestId: number
  token: number
}

/** What a client's inbox actor accepts (hints only; losing one costs a poll interval, never safety). */
export type InboxProtocol = { granted(hint: GrantHint): void }

const SEP = '\u0000'

/** An inbox address as it travels in commands: node and actor path. */
export function inboxAddress(node: string, path: string): string {
  return `${node}${SEP}${path}`
}

export function parseInboxAddress(address: string): { node: string; path: string } | null {
  const at = address.indexOf(SEP)
  if (at <= 0 || at === address.length - 1) return null
  return { node: address.slice(0, at), path: address.slice(at + 1) }
}

/** The inbox actor of one `Leases` client: forwards hints to the client object that spawned it, and closes it when the system stops. */
export function inboxDef(onGrant: (hint: GrantHint) => void, onStop: () => void) {
  return defineActor({
    name: 'lease-inbox',
    initial: () => null,
    handlers: {
      granted(_state, hint: GrantHint) {
        if (typeof hint !== 'object' || hint === null || typeof hint.requestId !== 'number' || typeof hint.token !== 'number') return
        onGrant(hint)
      },
    },
    onStop,
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: 10_000, overflow: 'drop' },
  })
}
