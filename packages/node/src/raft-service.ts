// The node's Raft host and the groups the app opens on it. `group(opts)`
// defaults the storage to the node's write-ahead log and the voters to the
// configured members; the node remembers each group so shutdown can move
// leadership away from it and stop it before the log closes.
import type { ActorRef, ActorSystem } from '@troupe/runtime'
import { group as openGroup, raftHost, transferLeadershipAway } from '@troupe/raft'
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

  /** Moves the leadership of every group led here to another voter (the Raft host does it, group by group); returns how many moved. */
  async transferLeadershipAway(timeoutMs: number, log: (msg: string) => void): Promise<number> {
    const r = await transferLeadershipAway(this.system, { timeoutMs })
    for (const f of r.failed) log(`leadership of group ${f.group} stayed here: ${f.code} ${f.message}`)
    return r.moved.length
  }

  /** Stops every group on this node (the other replicas go on). */
  async stopAll(): Promise<void> {
    this.closed = true
    await Promise.all([...this.groups.values()].map((g) => g.stop().catch(() => undefined)))
    this.groups.clear()
  }
}
