// The node's Raft host and the groups the app opens on it. `group(opts)`
// defaults the storage to the node's write-ahead log and the voters to the
// configured members; the node remembers each group so shutdown can move
// leadership away from it and stop it before the log closes.
import type { ActorRef, ActorSystem, Cluster } from '@troupe/runtime'
import { group as openGroup, raftHost } from '@troupe/raft'
import type { GroupOptions, RaftGroup, RaftHostOptions, StateMachine, WriteAheadLog } from '@troupe/raft'
import { NodeError } from './node-error.js'

type AnyMachine = StateMachine<any, any, any, any>
type AnyGroup = RaftGroup<any, any, any, any>

/** GroupOptions where `members` and `storage` are optional: the node fills them in. */
/** The handle type of a group whose state machine is S. */
export type GroupOf<S> = S extends StateMachine<infer C, infer R, infer Q, infer QR> ? RaftGroup<C, R, Q, QR> : never

export type NodeGroupOptions<S extends AnyMachine> = Omit<GroupOptions<S>, 'members' | 'host'> & { members?: string[] }

export class RaftService {
  readonly host: ActorRef<any>
  private readonly groups = new Map<string, AnyGroup>()
  private closed = false

  constructor(
    private readonly system: ActorSystem,
    private readonly wal: WriteAheadLog | null,
    private readonly members: string[],
    hostOptions: RaftHostOptions | undefined,
  ) {
    this.host = raftHost(system, hostOptions)
  }

  /** Opens group `id` on this node (storage: the node's WAL on replicas; voters: the node's raftMembers). */
  async group<S extends AnyMachine>(options: NodeGroupOptions<S>): Promise<GroupOf<S>> {
    if (this.closed) throw new NodeError('NODE_STOPPED', `node ${this.system.name} is shutting down: no new Raft groups`)
    const members = options.members ?? this.members
    const replica = options.stateMachine !== undefined
    if (replica && options.storage === undefined && this.wal === null) throw new NodeError('NOT_CONFIGURED', 'Raft groups with a state machine need the node\'s write-ahead log: set dataDir (or disk)')
    const handle = await openGroup<S>(this.system, { ...options, members, ...(replica ? { storage: options.storage ?? this.wal! } : {}) })
    if (replica) this.groups.set(options.id, handle as AnyGroup)
    return handle as unknown as GroupOf<S>
  }

  /** Remembers a group opened elsewhere (lease table, saga log) so shutdown treats it like the rest. */
  track(id: string, handle: AnyGroup): void {
    this.groups.set(id, handle)
  }

  /**
   * Moves the leadership of every group led here to another voter that is
   * up, one group at a time; a group whose transfer fails is logged and left.
   * TODO: the raft host's own transferLeadershipAway() replaces this once merged.
   */
  async transferLeadershipAway(cluster: Cluster | null, timeoutMs: number, log: (msg: string) => void): Promise<number> {
    let moved = 0
    const up = new Set(cluster?.upMembers() ?? [])
    for (const [id, handle] of this.groups) {
      const status = await handle.status().catch(() => null)
      if (status === null || status.role !== 'leader') continue
      const voters = status.config.voters.filter((v) => v !== this.system.name)
      const target = voters.find((v) => up.has(v)) ?? voters[0]
      if (target === undefined) continue
      try {
        await handle.transferLeadership(target, { timeoutMs })
        moved++
      } catch (err) {
        log(`leadership of group ${id} stayed here: ${String((err as Error)?.message ?? err)}`)
      }
    }
    return moved
  }

  /** Stops every group on this node (the other replicas go on). */
  async stopAll(): Promise<void> {
    this.closed = true
    await Promise.all([...this.groups.values()].map((g) => g.stop().catch(() => undefined)))
    this.groups.clear()
  }
}
