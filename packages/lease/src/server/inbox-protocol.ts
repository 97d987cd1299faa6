// The messages between a lease member and the clients' inboxes: grant hints
// and watch pushes go to a client's inbox actor, acknowledgements of beats
// come back to the member's watch actor. Addresses travel as strings.
import type { NameInfo } from '../core/commands.js'

/** The hint a leader sends to a waiter that reached the head of its queue and now holds the lease. */
export interface GrantHint {
  name: string
  clientId: string
  requestId: number
  token: number
}

/** A change of a watched name, as the member at `from` applied it: the `seq`-th event of subscription `subId`. */
export interface WatchEvent {
  from: string
  subId: number
  seq: number
  info: NameInfo
}

/**
 * Sent by a member's watch actor every beat, only while its replica is
 * known current (a read through it just succeeded): for each of the
 * inbox's subscriptions there, the seq of the last event sent. A client
 * behind that seq missed an event; a client that hears no beat for a while
 * stops trusting the member. Either way it reads again.
 */
export interface WatchBeat {
  from: string
  subs: Array<[subId: number, seq: number]>
}

/** A client's answer to a beat: the subscriptions it still wants and those it dropped. */
export interface WatchAck {
  inbox: string
  keep: number[]
  drop: number[]
}

/** What a member's watch actor accepts from clients. */
export type WatchServiceProtocol = { watchAck(ack: WatchAck): void }

/** What a client's inbox actor accepts: grant hints and watch pushes (losing one costs time, never safety). */
export type InboxProtocol = {
  granted(hint: GrantHint): void
  watchEvent(event: WatchEvent): void
  watchBeat(beat: WatchBeat): void
}

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
