import type { Entry, HardState, Snapshot } from '../storage.js'
import type { RaftMessage } from './message.js'
import type { ReadState, Role } from './raft.js'

/** Volatile state worth telling the application about when it changes. */
export interface SoftState {
  role: Role
  leader: string | null
}

/**
 * One batch of effects. Handle it in this order, then call advance(rd):
 * 1. persist `snapshot` (if set), `entries` and `hardState` (if set) to the log storage;
 * 2. send `messages` (they may go before the writes are durable);
 * 3. wait until the writes are durable (fsync), then send `messagesAfterPersist`;
 * 4. restore the state machine from `snapshot` (if set), apply `committedEntries` in order;
 * 5. serve `readStates` (each is readable now that step 4 is done).
 */
export interface Ready {
  /** Set when the role or the known leader changed. */
  softState: SoftState | null
  /** Set when term, vote or commit changed. */
  hardState: HardState | null
  /** A snapshot received from the leader: persist it (the log before it is replaced) and restore the state machine from it. */
  snapshot: Snapshot | null
  /** Entries to append to storage; the first one may overwrite (truncate) stored entries from its index on. */
  entries: Entry[]
  /** Committed entries to apply, in index order. */
  committedEntries: Entry[]
  /** Messages that may be sent at once. */
  messages: RaftMessage[]
  /** Messages (votes, append acknowledgements) that vouch for this Ready's writes: send only once they are durable. */
  messagesAfterPersist: RaftMessage[]
  /** Confirmed ReadIndex reads, servable once `committedEntries` are applied. */
  readStates: ReadState[]
  /** True if term, vote, entries or snapshot changed: storage must fsync before step 3. */
  mustSync: boolean
}
