// The node's shutdown phases, in order. Why this order: in this runtime a
// region hands its shards off when the cluster sees the node leave, and a
// node the cluster has removed is cut off from every peer (its Raft and
// lease traffic fails); so sagas settle, Raft leadership moves and leases
// are released while the node is still a member, then it leaves (shards
// hand off, buffered messages follow) and waits for its removal.
import type { ShutdownPhaseName } from './node-config.js'
import type { NodeParts } from './node-parts.js'

export const SHUTDOWN_PHASES: readonly ShutdownPhaseName[] = [
  'not-ready',
  'stop-work',
  'sagas',
  'transfer-leadership',
  'release-leases',
  'hand-off-shards',
  'leave-cluster',
  'stop-services',
  'terminate-system',
  'close-listeners',
]

/** Adds the node's own tasks to the phases (the app adds its own with `node.onShutdown`). */
export function addNodeTasks(p: NodeParts): void {
  const s = p.shutdown
  const t = p.rc.shutdownTimeouts
  const info = (msg: string): void => p.log('info', msg)
  // not-ready: /ready answers 503 from the moment shutdown starts; this phase gives load balancers a beat to notice.
  s.addTask('not-ready', 'readiness', () => undefined)
  if (p.sagas) {
    const sagas = p.sagas
    s.addTask('sagas', 'finish-or-park', async () => {
      const parked = await sagas.finishOrPark(Math.max(0, t.sagas - 100))
      if (parked > 0) info(`${parked} saga(s) parked for recovery by another node`)
    })
  }
  if (p.raft) {
    const raft = p.raft
    s.addTask('transfer-leadership', 'raft', async () => {
      const moved = await raft.transferLeadershipAway(Math.max(100, t['transfer-leadership'] - 100), info)
      if (moved > 0) info(`moved leadership of ${moved} Raft group(s) away`)
    })
  }
  if (p.leases) {
    const leases = p.leases
    s.addTask('release-leases', 'leases', async () => {
      const held = leases.held().length
      await leases.close()
      if (held > 0) info(`released ${held} lease(s)`)
    })
  }
  s.addTask('hand-off-shards', 'leave', async () => {
    const cluster = p.cluster
    if (!cluster || cluster.isTerminated) return
    void cluster.leave()
    if (!p.sharding) return
    // Every shard handed off (entities stopped after the messages they held, buffered messages forwarded); the phase timeout bounds it.
    await p.sharding.whenHandedOff()
  })
  s.addTask('leave-cluster', 'removal', async () => {
    const cluster = p.cluster
    if (!cluster || cluster.isTerminated) return
    await cluster.leave()
  })
  s.addTask('stop-services', 'services', async () => {
    p.membership.detach()
    await p.sagas?.close().catch(() => undefined)
    await p.leaseGroup?.service?.stop().catch(() => undefined)
    await p.raft?.stopAll()
    await p.pubsub?.stop().catch(() => undefined)
    await p.sharding?.stop().catch(() => undefined)
    if (p.cluster && !p.cluster.isTerminated) await p.cluster.stop().catch(() => undefined)
    await p.wal?.close().catch(() => undefined)
    if (p.ownDisk) await (p.disk as { close?: () => Promise<void> } | null)?.close?.().catch(() => undefined)
  })
  // Actors still running when the timeout ends are stopped by force.
  s.addTask('terminate-system', 'system', async () => void (await p.system.terminate({ timeoutMs: Math.max(0, t['terminate-system'] - 100) })))
  s.addTask('close-listeners', 'http', async () => {
    await p.http?.close()
    // system.terminate stops the transport; if that phase timed out, stop it here.
    if (p.ownTransport) await p.transport.stop().catch(() => undefined)
  })
}
