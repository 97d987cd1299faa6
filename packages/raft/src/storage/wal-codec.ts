import { Encoder } from 'cbor-x'
import { crc32 } from 'node:zlib'
import type { ClusterConfig, Entry, EntryKind, HardState, Snapshot, SnapshotMeta } from '../storage.js'

/**
 * On-disk format of the write-ahead log. A segment is a sequence of frames:
 *
 *   u32 LE payload length | u32 LE crc32(payload) | u32 LE crc32(first 8 bytes) | CBOR payload
 *
 * The header checksum tells a corrupt length apart from a torn tail, so a bad
 * length in the middle of a log is never mistaken for its end. Payloads are
 * CBOR arrays tagged by record type (compact, and fast to decode).
 */
export const walFormatVersion = 1
export const frameHeaderBytes = 12

/** A snapshot kept in its own file; the log records the reference. */
export interface SnapshotRef {
  meta: SnapshotMeta
  file: string
}

export type WalRecord =
  /** First record of every segment; a checkpoint segment starts with the full state of every group. */
  | { type: 'header'; version: number; seq: number; checkpoint: boolean }
  | { type: 'entries'; group: string; entries: Entry[] }
  | { type: 'hardState'; group: string; state: HardState }
  | { type: 'snapshot'; group: string; ref: SnapshotRef }

const T_HEADER = 0
const T_ENTRIES = 1
const T_HARD_STATE = 2
const T_SNAPSHOT = 3

const cbor = new Encoder({ useRecords: false, tagUint8Array: false, mapsAsObjects: true })

export function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(frameHeaderBytes + payload.byteLength)
  const view = new DataView(out.buffer)
  view.setUint32(0, payload.byteLength, true)
  view.setUint32(4, crc32(payload), true)
  view.setUint32(8, crc32(out.subarray(0, 8)), true)
  out.set(payload, frameHeaderBytes)
  return out
}

export type FrameRead =
  | { kind: 'record'; payload: Uint8Array; next: number }
  | { kind: 'end' }
  /** The bytes end inside this frame (or are zero-filled): a write cut short by a crash. */
  | { kind: 'torn'; reason: string }
  /** A frame that fails a checksum; `last` when nothing follows it. */
  | { kind: 'corrupt'; reason: string; last: boolean }

export function readFrame(buf: Uint8Array, offset: number, maxRecordBytes: number): FrameRead {
  const rest = buf.byteLength - offset
  if (rest === 0) return { kind: 'end' }
  if (rest < frameHeaderBytes) return { kind: 'torn', reason: `${rest} bytes, less than a frame header` }
  const view = new DataView(buf.buffer, buf.byteOffset + offset, frameHeaderBytes)
  const length = view.getUint32(0, true)
  if (view.getUint32(8, true) !== crc32(buf.subarray(offset, offset + 8))) {
    if (allZero(buf, offset)) return { kind: 'torn', reason: 'zero-filled tail' }
    return { kind: 'corrupt', reason: 'frame header checksum mismatch', last: false }
  }
  if (length > maxRecordBytes) return { kind: 'corrupt', reason: `record length ${length} above maxRecordBytes`, last: false }
  const end = offset + frameHeaderBytes + length
  if (end > buf.byteLength) return { kind: 'torn', reason: `record of ${length} bytes cut at ${rest - frameHeaderBytes}` }
  const payload = buf.subarray(offset + frameHeaderBytes, end)
  if (view.getUint32(4, true) !== crc32(payload)) {
    return { kind: 'corrupt', reason: 'record checksum mismatch', last: end === buf.byteLength }
  }
  return { kind: 'record', payload, next: end }
}

export function encodeRecord(record: WalRecord): Uint8Array {
  return frame(cbor.encode(toWire(record)))
}

function toWire(r: WalRecord): unknown[] {
  switch (r.type) {
    case 'header':
      return [T_HEADER, r.version, r.seq, r.checkpoint]
    case 'entries':
      return [T_ENTRIES, r.group, r.entries[0]?.index ?? 0, r.entries.map((e) => [e.term, e.kind === 'config' ? 1 : 0, e.data])]
    case 'hardState':
      return [T_HARD_STATE, r.group, r.state.term, r.state.vote, r.state.commit]
    case 'snapshot':
      return [T_SNAPSHOT, r.group, r.ref.meta.index, r.ref.meta.term, configToWire(r.ref.meta.config), r.ref.file]
  }
}

/** Decodes a payload whose checksum matched; a malformed one throws a FormatProblem. */
export function decodeRecord(payload: Uint8Array): WalRecord {
  const w = decodeArray(payload)
  switch (w[0]) {
    case T_HEADER:
      return { type: 'header', version: nat(w[1]), seq: nat(w[2]), checkpoint: bool(w[3]) }
    case T_ENTRIES: {
      const group = str(w[1])
      const first = nat(w[2])
      const entries = array(w[3]).map((x, i): Entry => {
        const e = array(x)
        return { term: nat(e[0]), index: first + i, kind: entryKind(e[1]), data: bytes(e[2]) }
      })
      return { type: 'entries', group, entries }
    }
    case T_HARD_STATE:
      return { type: 'hardState', group: str(w[1]), state: { term: nat(w[2]), vote: w[3] === null ? null : str(w[3]), commit: nat(w[4]) } }
    case T_SNAPSHOT:
      return { type: 'snapshot', group: str(w[1]), ref: { meta: { index: nat(w[2]), term: nat(w[3]), config: configFromWire(w[4]) }, file: str(w[5]) } }
    default:
      throw new FormatProblem(`unknown record type ${String(w[0])}`)
  }
}

/** A snapshot file: one frame holding the group, the metadata and the state machine's bytes. */
export function encodeSnapshotFile(group: string, snapshot: Snapshot): Uint8Array {
  const { index, term, config } = snapshot.meta
  return frame(cbor.encode([group, index, term, configToWire(config), snapshot.data]))
}

export function decodeSnapshotFile(buf: Uint8Array, maxRecordBytes: number): { group: string; snapshot: Snapshot } {
  const read = readFrame(buf, 0, Math.max(maxRecordBytes, buf.byteLength))
  if (read.kind !== 'record' || read.next !== buf.byteLength) throw new FormatProblem(`snapshot file: ${'reason' in read ? read.reason : 'trailing bytes'}`)
  const w = decodeArray(read.payload)
  const meta: SnapshotMeta = { index: nat(w[1]), term: nat(w[2]), config: configFromWire(w[3]) }
  return { group: str(w[0]), snapshot: { meta, data: bytes(w[4]) } }
}

/** Encoded size estimate of entries, used to split them into records. */
export function entriesWireBytes(entries: readonly Entry[]): number {
  let n = 0
  for (const e of entries) n += e.data.byteLength + 16
  return n
}

/** A frame that passed its checksum but does not hold a valid record: a bug or a foreign file. */
export class FormatProblem extends Error {
  override readonly name = 'FormatProblem'
}

function configToWire(c: ClusterConfig): unknown[] {
  return [c.voters, c.learners, c.votersOutgoing ?? null, c.learnersNext ?? null]
}

function configFromWire(x: unknown): ClusterConfig {
  const w = array(x)
  const config: ClusterConfig = { voters: strs(w[0]), learners: strs(w[1]) }
  if (w[2] !== null && w[2] !== undefined) config.votersOutgoing = strs(w[2])
  if (w[3] !== null && w[3] !== undefined) config.learnersNext = strs(w[3])
  return config
}

function decodeArray(payload: Uint8Array): unknown[] {
  let value: unknown
  try {
    value = cbor.decode(payload)
  } catch (err) {
    throw new FormatProblem(`undecodable CBOR: ${(err as Error).message}`)
  }
  return array(value)
}

function array(x: unknown): unknown[] {
  if (!Array.isArray(x)) throw new FormatProblem('expected an array')
  return x
}

function nat(x: unknown): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw new FormatProblem(`expected a natural number, got ${String(x)}`)
  return x
}

function str(x: unknown): string {
  if (typeof x !== 'string') throw new FormatProblem('expected a string')
  return x
}

function strs(x: unknown): string[] {
  return array(x).map(str)
}

function bool(x: unknown): boolean {
  if (typeof x !== 'boolean') throw new FormatProblem('expected a boolean')
  return x
}

function bytes(x: unknown): Uint8Array {
  if (!(x instanceof Uint8Array)) throw new FormatProblem('expected bytes')
  return new Uint8Array(x) // a copy, so the segment buffer it came from can be freed
}

function entryKind(x: unknown): EntryKind {
  if (x === 0) return 'normal'
  if (x === 1) return 'config'
  throw new FormatProblem(`unknown entry kind ${String(x)}`)
}

function allZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.byteLength; i++) if (buf[i] !== 0) return false
  return true
}
