import type { ActorSystem } from '@troupe/runtime'
import { group } from '@troupe/raft'
import type { GroupOptions, RaftGroup } from '@troupe/raft'
import type { LeaseCommand, LeaseQuery, LeaseQueryResult, LeaseResult } from '../core/commands.js'
import type { LeaseReplica } from './group-handle.js'
import { LeaseService } from './lease-service.js'
import type { LeaseServiceOptions } from './lease-service.js'
import type { LeaseTable } from '../core/lease-table.js'

export type LeaseRaftGroup = RaftGroup<LeaseCommand, LeaseResult, LeaseQuery, LeaseQueryResult>

export interface LeaseGroupOptions extends Omit<GroupOptions<LeaseTable>, 'stateMachine'> {
  /** The expiry judge and hint sender on member nodes. */
  service?: LeaseServiceOptions
}

export interface OpenedLeaseGroup {
  /** The group handle: give it to `new Leases(system, group)`. */
  group: LeaseRaftGroup
  /** The service on a member node (null on a node that only sends requests). */
  service: LeaseService | null
}

/**
 * Opens the Raft group that holds a lease table on this node. On a member
 * (voter or learner) it also starts the lease service, which judges expiry
 * while this node leads. On any other node it opens a forwarding handle.
 */
export async function openLeaseGroup(system: ActorSystem, options: LeaseGroupOptions): Promise<OpenedLeaseGroup> {
  const { service: serviceOptions, ...groupOptions } = options
  const member = options.members.includes(system.name) || (options.learners ?? []).includes(system.name)
  if (!member) return { group: (await group<LeaseTable>(system, groupOptions)) as LeaseRaftGroup, service: null }
  const service = new LeaseService(system, serviceOptions)
  const handle = (await group<LeaseTable>(system, { ...groupOptions, stateMachine: service.stateMachine })) as LeaseRaftGroup
  service.attach(replicaOf(handle))
  return { group: handle, service }
}

/** This node's replica as the lease service sees it. */
export function replicaOf(handle: LeaseRaftGroup): LeaseReplica {
  return {
    propose: (command, options) => handle.propose(command, options),
    read: (query, options) => handle.read(query, options),
    role: async () => {
      const status = await handle.status()
      return { leader: status?.role === 'leader', term: status?.term ?? 0 }
    },
  }
}
