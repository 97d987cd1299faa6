// What a started node is made of, as startNode builds it: the pieces the
// handle exposes and the shutdown phases take down.
import type { ActorSystem, Cluster, Disk, PubSub, Sharding, Transport } from '@troupe/runtime'
import type { Leases, OpenedLeaseGroup } from '@troupe/lease'
import type { WriteAheadLog } from '@troupe/raft'
import type { AuthFailures } from './auth-failures.js'
import type { ResolvedNodeConfig } from './config-check.js'
import type { CoordinatedShutdown } from './coordinated-shutdown.js'
import type { PendingMembership } from './internal/pending-membership.js'
import type { NodeLog } from './node-config.js'
import type { NodeHttp } from './node-http.js'
import type { RaftService } from './raft-service.js'
import type { SagaService } from './saga-service.js'

export interface NodeParts {
  rc: ResolvedNodeConfig
  log: NodeLog
  system: ActorSystem
  transport: Transport
  /** True when startNode made the transport (and so closes it). */
  ownTransport: boolean
  address: string
  disk: Disk | null
  /** True when startNode opened the disk (and so closes it). */
  ownDisk: boolean
  wal: WriteAheadLog | null
  membership: PendingMembership
  sharding: Sharding | null
  pubsub: PubSub | null
  raft: RaftService | null
  leaseGroup: OpenedLeaseGroup | null
  leases: Leases | null
  sagas: SagaService | null
  http: NodeHttp | null
  auth: AuthFailures
  shutdown: CoordinatedShutdown
  /** Set once Cluster.start ran. */
  cluster: Cluster | null
  /** Set once every service is started and the cluster joined. */
  started: boolean
}
