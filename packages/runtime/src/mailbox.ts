import { TroupeError } from './errors.js'

/**
 * Bounded mailbox settings. When full, 'reject' makes `tell` throw and `ask`
 * reject with MAILBOX_FULL; 'drop' sends the message to dead letters.
 */
export interface MailboxOptions {
  capacity?: number
  overflow?: 'reject' | 'drop'
}

export interface ResolvedMailbox {
  capacity: number
  overflow: 'reject' | 'drop'
}

export const defaultMailbox: ResolvedMailbox = { capacity: 100_000, overflow: 'reject' }

export function resolveMailbox(m: MailboxOptions | undefined): ResolvedMailbox {
  if (!m) return defaultMailbox
  const capacity = m.capacity ?? defaultMailbox.capacity
  const overflow = m.overflow ?? defaultMailbox.overflow
  if (!(Number.isInteger(capacity) && capacity > 0)) throw new TroupeError('INVALID_ARGUMENT', `mailbox capacity must be a positive integer, got ${capacity}`)
  if (overflow !== 'reject' && overflow !== 'drop') throw new TroupeError('INVALID_ARGUMENT', `mailbox overflow must be 'reject' or 'drop'`)
  return { capacity, overflow }
}
