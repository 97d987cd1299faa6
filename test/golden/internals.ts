// The ONE place the golden fixtures reach past the packages' public entries.
//
// The redesign moves these modules around. When it does, update only this
// file: re-export the same functions and values from their new homes, so
// that record.ts and golden.test.ts do not change and the fixtures recorded
// from ee2a485 keep proving that behaviour, placement and wire bytes did not
// change. Everything else the golden test needs comes from `@troupe/runtime`
// and `@troupe/testkit`.
import type { Scenario } from '@troupe/testkit'

// ---- WebSocket handshake and frames (runtime/src/ws) ----------------------
export {
  encodeHello,
  encodeChallenge,
  encodeProof,
  encodeAccept,
  serverProof,
  clientProof,
  NONCE_BYTES,
} from '../../packages/runtime/src/ws/handshake.js'
export type { Hello, Identity } from '../../packages/runtime/src/ws/handshake.js'
export { FrameType, encodeFrame } from '../../packages/runtime/src/ws/frames.js'
export { DEFAULT_VERSIONS } from '../../packages/runtime/src/wire-version.js'

// ---- Remoting envelopes (runtime/src/remote) --------------------------------
export { Kind } from '../../packages/runtime/src/remote/wire.js'

// ---- Cluster membership and gossip (runtime/src/cluster) --------------------
export { Membership } from '../../packages/runtime/src/cluster/membership.js'
export { Reachability } from '../../packages/runtime/src/cluster/reachability.js'
export { membershipToWire } from '../../packages/runtime/src/cluster/membership-wire.js'
export { DAEMON_PATH, HEARTBEAT_PATH } from '../../packages/runtime/src/cluster/messages.js'
export type { GossipState, GossipStatus, JoinRequest, Welcome } from '../../packages/runtime/src/cluster/messages.js'
export { monitoredNodes } from '../../packages/runtime/src/cluster/monitor-ring.js'
/** Cluster FNV-1a (no finalizer; orders the monitoring ring) and cyrb53 (gossip digests). */
export { fnv1a32 as hash32, cyrb53 as hash53 } from '../../packages/runtime/src/hash.js'

// ---- Sharding hashes (runtime/src/sharding) ---------------------------------
/** Sharding FNV-1a finalized with fmix32 (entity id → shard, rendezvous scores). */
export { fnv1a32Fmix as hashString, fmix32 } from '../../packages/runtime/src/hash.js'
export { shardOf } from '../../packages/runtime/src/sharding/hashing.js'

// ---- Simulation scenarios -----------------------------------------------------
// `pnpm sim` runs the testkit's built-in actor-chatter (public, from
// @troupe/testkit) plus every packages/*/test/*.scenario.ts, in this order
// (packages sorted, files sorted). Keep this list in that order.
import { scenarios as entityActivation } from '../../packages/lease/test/entity-activation.scenario.js'
import { scenario as leaseLinearizable } from '../../packages/lease/test/lease-lin.scenario.js'
import { scenario as leaseLock } from '../../packages/lease/test/leases.scenario.js'
import { scenario as leaseWatch } from '../../packages/lease/test/watch.scenario.js'
import { scenario as raftKv } from '../../packages/raft/test/sim-kv.scenario.js'
import { scenario as sagaCluster } from '../../packages/saga/test/sagas.scenario.js'
import { scenarios as clusterScenarios } from '../../packages/testkit/test/cluster.scenario.js'

/** The scenarios of `packages/*\/test/*.scenario.ts`, in `pnpm sim`'s discovery order. */
export const PACKAGE_SCENARIOS: readonly Scenario[] = [
  ...entityActivation,
  leaseLinearizable,
  leaseLock,
  leaseWatch,
  raftKv,
  sagaCluster,
  ...clusterScenarios,
]
