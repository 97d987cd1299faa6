import type { ClusterConfig } from '../storage.js'

export type ConfChangeType = 'addVoter' | 'addLearner' | 'removeNode'

/** A single-server membership change. `addVoter` on a learner promotes it. */
export interface ConfChange {
  type: ConfChangeType
  node: string
}

const changeTypes: readonly string[] = ['addVoter', 'addLearner', 'removeNode']

/**
 * Applies `cc` to `config`, or returns why it cannot be applied. Only one
 * server changes, so any majority of the old voters overlaps any majority of
 * the new ones.
 */
export function applyConfChange(config: ClusterConfig, cc: ConfChange): ClusterConfig | string {
  if (config.votersOutgoing !== undefined && config.votersOutgoing.length > 0) return 'joint configurations are not supported'
  const voters = config.voters.filter((v) => v !== cc.node)
  const learners = config.learners.filter((l) => l !== cc.node)
  const isVoter = voters.length !== config.voters.length
  const isLearner = learners.length !== config.learners.length
  switch (cc.type) {
    case 'addVoter':
      if (isVoter) return `${cc.node} is already a voter`
      voters.push(cc.node)
      break
    case 'addLearner':
      if (isVoter) return `${cc.node} is a voter; remove it first to make it a learner`
      if (isLearner) return `${cc.node} is already a learner`
      learners.push(cc.node)
      break
    case 'removeNode':
      if (!isVoter && !isLearner) return `${cc.node} is not a member`
      if (isVoter && voters.length === 0) return 'cannot remove the last voter'
      break
  }
  return { voters: voters.sort(), learners: learners.sort() }
}

export function describeConfig(c: ClusterConfig): string {
  const l = c.learners.length > 0 ? ` learners=(${c.learners.join(' ')})` : ''
  return `voters=(${c.voters.join(' ')})${l}`
}

// The entry data of a config change is the CBOR map {type, node}: a tiny
// hand-written codec keeps the core free of codec dependencies.

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out: number[] = [0xa2]
  for (const s of ['type', cc.type, 'node', cc.node]) pushText(out, s)
  return Uint8Array.from(out)
}

/** Decodes a config entry's data, or returns null if it is not a well-formed change. */
export function decodeConfChange(data: Uint8Array): ConfChange | null {
  try {
    if (data[0] !== 0xa2) return null
    const pos = { i: 1 }
    const fields: Record<string, string> = {}
    for (let k = 0; k < 2; k++) {
      const key = readText(data, pos)
      fields[key] = readText(data, pos)
    }
    if (pos.i !== data.length) return null
    const { type, node } = fields
    if (type === undefined || node === undefined || !changeTypes.includes(type) || node.length === 0) return null
    return { type: type as ConfChangeType, node }
  } catch {
    return null
  }
}

function pushText(out: number[], s: string): void {
  const bytes = utf8.encode(s)
  const n = bytes.length
  if (n < 24) out.push(0x60 + n)
  else if (n < 0x100) out.push(0x78, n)
  else if (n < 0x10000) out.push(0x79, n >> 8, n & 0xff)
  else out.push(0x7a, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff)
  for (const b of bytes) out.push(b)
}

function readText(data: Uint8Array, pos: { i: number }): string {
  const head = data[pos.i++]!
  if (head >> 5 !== 3) throw new Error('not a text string')
  let n = head & 0x1f
  if (n === 24) n = data[pos.i++]!
  else if (n === 25) { n = (data[pos.i]! << 8) | data[pos.i + 1]!; pos.i += 2 }
  else if (n === 26) { n = ((data[pos.i]! << 24) >>> 0) + (data[pos.i + 1]! << 16) + (data[pos.i + 2]! << 8) + data[pos.i + 3]!; pos.i += 4 }
  else if (n > 26) throw new Error('bad length')
  if (pos.i + n > data.length) throw new Error('truncated')
  const s = fromUtf8.decode(data.subarray(pos.i, pos.i + n))
  pos.i += n
  return s
}
