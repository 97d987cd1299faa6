import { defineActor } from '@troupe/runtime'
import type { GrantHint, WatchBeat, WatchEvent } from '../server/inbox-protocol.js'

export interface InboxHandlers {
  granted(hint: GrantHint): void
  watchEvent(event: WatchEvent): void
  watchBeat(beat: WatchBeat): void
}

/** The inbox actor of one `Leases` client: forwards hints and watch pushes to the client object that spawned it, and closes it when the system stops. */
export function inboxDef(on: InboxHandlers, onStop: () => void) {
  return defineActor({
    name: 'lease-inbox',
    initial: () => null,
    handlers: {
      granted(_state, hint: GrantHint) {
        if (typeof hint !== 'object' || hint === null || typeof hint.requestId !== 'number' || typeof hint.token !== 'number') return
        on.granted(hint)
      },
      watchEvent(_state, event: WatchEvent) {
        if (typeof event !== 'object' || event === null || typeof event.from !== 'string' || typeof event.subId !== 'number' || typeof event.seq !== 'number') return
        if (typeof event.info !== 'object' || event.info === null || !Array.isArray(event.info.holders) || typeof event.info.revision !== 'number') return
        on.watchEvent(event)
      },
      watchBeat(_state, beat: WatchBeat) {
        if (typeof beat !== 'object' || beat === null || typeof beat.from !== 'string' || !Array.isArray(beat.subs)) return
        on.watchBeat(beat)
      },
    },
    onStop,
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: 10_000, overflow: 'drop' },
  })
}
