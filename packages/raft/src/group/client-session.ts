import { RaftGroupError } from './group-error.js'

/**
 * The client side of a session: numbers commands, and tells the group which
 * answers it already has (`ackedBelow`: every seq below it is settled), so
 * the replicated session table keeps results only for commands in flight.
 */
export class ClientSession {
  private nextSeq = 1
  private low = 1
  private readonly inFlight = new Set<number>()
  /** A command of this session got its result: the group knows the session (until it expires). */
  established = false

  constructor(
    readonly clientId: string,
    /** Commands in flight at once; each holds a result in the replicated state until settled. */
    readonly maxInflight: number,
  ) {}

  begin(): number {
    if (this.inFlight.size >= this.maxInflight) {
      throw new RaftGroupError('OVERLOADED', `client ${this.clientId} has ${this.inFlight.size} commands in flight (maxInflight)`)
    }
    const seq = this.nextSeq++
    this.inFlight.add(seq)
    return seq
  }

  /** The command is settled (answered, or given up on: a late copy of it may then be refused as a duplicate). */
  end(seq: number): void {
    this.inFlight.delete(seq)
  }

  /** Lowest seq still in flight (or the next one): the client has answers for everything below. */
  get ackedBelow(): number {
    while (this.low < this.nextSeq && !this.inFlight.has(this.low)) this.low++
    return this.low
  }
}
