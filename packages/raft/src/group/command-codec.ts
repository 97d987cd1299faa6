import { Encoder } from 'cbor-x'

/**
 * Entry data written by the group layer. A normal entry holds one client
 * command with its session and the leader's clock:
 *
 *   [1, clientId, seq, ackedBelow, timeMs, command, established]   (CBOR)
 *
 * Empty data is the core's no-op (a new leader's first entry). Everything
 * else is a format this version does not know: replicas skip it alike.
 */
export interface CommandEntry {
  clientId: string
  seq: number
  /** The client has its answers for every seq below this one: results below it can go. */
  ackedBelow: number
  /** The leader's clock when it appended the entry (ms). */
  timeMs: number
  command: unknown
  /** The client got a result from its session before: if the group does not know the session, it expired. */
  established: boolean
}

const COMMAND = 1
const SNAPSHOT_VERSION = 1

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

export function encodeCommand(c: CommandEntry): Uint8Array {
  return cbor.encode([COMMAND, c.clientId, c.seq, c.ackedBelow, c.timeMs, c.command, c.established])
}

/** The command in an entry's data, or null for data this version does not understand. */
export function decodeCommand(data: Uint8Array): CommandEntry | null {
  let w: unknown
  try {
    w = cbor.decode(data)
  } catch {
    return null
  }
  if (!Array.isArray(w) || w.length !== 7 || w[0] !== COMMAND) return null
  const [, clientId, seq, ackedBelow, timeMs, command, established] = w
  if (typeof clientId !== 'string' || !isCount(seq) || !isCount(ackedBelow) || typeof timeMs !== 'number' || !Number.isFinite(timeMs)) return null
  if (typeof established !== 'boolean') return null
  return { clientId, seq, ackedBelow, timeMs, command, established }
}

/** Encodes any CBOR-encodable value (snapshots, checks that a command can travel). */
export function encodeValue(value: unknown): Uint8Array {
  return cbor.encode(value)
}

export function decodeValue(data: Uint8Array): unknown {
  return cbor.decode(data)
}

/** What a group snapshot holds besides the user's state: log time and client sessions. */
export interface SnapshotEnvelope {
  logTimeMs: number
  /** [clientId, ackedBelow, lastActiveMs, [[seq, outcome], ...]] per client. */
  sessions: unknown[]
  user: unknown
}

export function encodeSnapshot(s: SnapshotEnvelope): Uint8Array {
  return cbor.encode([SNAPSHOT_VERSION, s.logTimeMs, s.sessions, s.user])
}

/** Throws on a snapshot this version cannot read: it came from our own log, so that is a bug or corruption. */
export function decodeSnapshot(data: Uint8Array): SnapshotEnvelope {
  const w = cbor.decode(data) as unknown
  if (!Array.isArray(w) || w[0] !== SNAPSHOT_VERSION || typeof w[1] !== 'number' || !Array.isArray(w[2])) {
    throw new Error('group snapshot has an unknown format')
  }
  const user = w[3] instanceof Uint8Array ? new Uint8Array(w[3].buffer, w[3].byteOffset, w[3].byteLength) : w[3]
  return { logTimeMs: w[1], sessions: w[2], user }
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
}
