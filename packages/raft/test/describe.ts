import { decodeConfChange } from '../src/core.js'
import type { Entry, HardState, RaftMessage, Ready, ReadContext, Snapshot } from '../src/core.js'

const utf8 = new TextDecoder()

export function describeData(data: Uint8Array): string {
  return JSON.stringify(utf8.decode(data))
}

export function describeEntry(e: Entry): string {
  if (e.kind === 'config') {
    const cc = decodeConfChange(e.data)
    return `${e.term}/${e.index} conf ${cc === null ? '<invalid>' : `${cc.type} ${cc.node}`}`
  }
  return `${e.term}/${e.index} normal ${describeData(e.data)}`
}

export function describeCtx(ctx: ReadContext): string {
  return typeof ctx === 'string' ? ctx : `0x${Buffer.from(ctx).toString('hex')}`
}

export function describeHardState(h: HardState): string {
  return `HardState Term:${h.term} Vote:${h.vote ?? 0} Commit:${h.commit}`
}

export function describeSnapshotMeta(s: Snapshot['meta']): string {
  const l = s.config.learners.length > 0 ? ` Learners:(${s.config.learners.join(' ')})` : ''
  return `Index:${s.index} Term:${s.term} Voters:(${s.config.voters.join(' ')})${l}`
}

export function describeMessage(m: RaftMessage): string {
  const head = `${m.from}->${m.to} ${m.type} Term:${m.term}`
  switch (m.type) {
    case 'vote':
    case 'preVote':
      return `${head} Log:${m.logTerm}/${m.index}${m.transfer ? ' Transfer' : ''}`
    case 'voteResp':
    case 'preVoteResp':
      return `${head}${m.reject ? ' Rejected' : ''}`
    case 'app': {
      const ents = m.entries.length > 0 ? ` Entries:[${m.entries.map(describeEntry).join(', ')}]` : ''
      return `${head} Log:${m.logTerm}/${m.index} Commit:${m.commit}${ents}`
    }
    case 'appResp':
      return m.reject
        ? `${head} Index:${m.index} Rejected (Hint: ${m.rejectHint}/${m.logTerm})`
        : `${head} Index:${m.index}`
    case 'heartbeat':
      return `${head} Commit:${m.commit}${m.readSeq > 0 ? ` ReadSeq:${m.readSeq}` : ''}`
    case 'heartbeatResp':
      return `${head}${m.readSeq > 0 ? ` ReadSeq:${m.readSeq}` : ''}`
    case 'snap':
      return `${head} Snapshot:[${describeSnapshotMeta(m.meta)}] Bytes:${m.offset}+${m.data.byteLength}/${m.totalBytes}${m.done ? ' Done' : ''}`
    case 'snapResp':
      return `${head} Snapshot:${m.index} Offset:${m.offset}${m.reject ? ' Rejected' : ''}`
    case 'timeoutNow':
      return head
    case 'readIndex':
      return `${head} Ctx:${describeCtx(m.ctx)}`
    case 'readIndexResp':
      return `${head} Ctx:${describeCtx(m.ctx)} Index:${m.index}`
  }
}

export function describeReady(rd: Ready): string[] {
  const out = [`Ready MustSync=${rd.mustSync}:`]
  if (rd.softState !== null) out.push(`Lead:${rd.softState.leader ?? 0} State:${rd.softState.role}`)
  if (rd.hardState !== null) out.push(describeHardState(rd.hardState))
  if (rd.snapshot !== null) out.push(`Snapshot ${describeSnapshotMeta(rd.snapshot.meta)} Data:${describeData(rd.snapshot.data)}`)
  if (rd.entries.length > 0) out.push('Entries:', ...rd.entries.map(describeEntry))
  if (rd.committedEntries.length > 0) out.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry))
  if (rd.messages.length > 0) out.push('Messages:', ...rd.messages.map(describeMessage))
  if (rd.messagesAfterPersist.length > 0) out.push('MessagesAfterPersist:', ...rd.messagesAfterPersist.map(describeMessage))
  if (rd.readStates.length > 0) out.push('ReadStates:', ...rd.readStates.map((r) => `Ctx:${describeCtx(r.ctx)} Index:${r.index}`))
  return out
}
