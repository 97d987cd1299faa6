// @troupe/runtime/testing: helpers for tests of other packages and apps.
// Not for production code.
import type { ActorSystem } from './system.js'
import type { NextWire, NextWireStats } from './remote/next-wire.js'
import type { Remoting } from './remote/remoting.js'

export type { NextWireStats } from './remote/next-wire.js'

/** What a test sees of wire version 3 (the test build a node runs with `wire: { experimental: 'next' }`). */
export interface NextWireProbe {
  /** The wire version the link to `node` speaks (its connection's, else this node's oldest). */
  peerVersion(node: string): number
  /** Sends a version-3 note to `node`; false (nothing sent) when the link does not speak version 3. */
  sendNote(node: string, text: string): boolean
  /** Notes received from version-3 peers. */
  onNote(fn: (from: string, text: string) => void): void
  /** Trailing fields and notes received. */
  stats(): NextWireStats
}

/**
 * The version-3 additions of a system's remoting, for rolling-upgrade tests.
 * Throws for a system without a transport.
 */
export function nextWire(system: ActorSystem): NextWireProbe {
  const remoting = (system as unknown as { remoting: Remoting | null }).remoting
  if (remoting === null || remoting === undefined) throw new Error(`system ${system.name} has no transport`)
  const next: NextWire = remoting.next
  return {
    peerVersion: (node) => remoting.peerVersion(node),
    sendNote: (node, text) => remoting.sendNote(node, text),
    onNote: (fn) => void next.events.on('note', fn),
    stats: () => next.stats(),
  }
}
