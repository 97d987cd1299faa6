// The environment of the lease table's transcripts (testdata/*.txt): one
// table fed by a pretend Raft log (each command gets the next index, the
// current term and the leader's clock), the leader's expiry judge, and what
// the table tells its listener (grants to waiters, holder changes, watch
// subscriptions). Directives:
//
//   table [maxWaitersPerName=N maxNames=N maxClients=N maxRenewItems=N ...]
//                                     a fresh table (index 0, term 1, clock 0)
//   acquire <client#req> <name> [mode=shared] [ttl=MS] [nowait] [value=V] [inbox=I] [settled=N]
//   keepalive <client#req> <name>     the one-entry renewal (old clients)
//   renew <client> <name>#<req>...    one batch of renewals of one client
//   release <client#req> <name>
//   expire <client#req> <name> [renewed=INDEX] [term=T]
//                                     an expire the leader of T (default: now)
//                                     proposes for the renewal it saw (default: the current one)
//   tick <ms>                         the leader's clock moves on
//   elect                             a new leader: the term goes up
//   reap                              the leader's round: judge by its clock, propose what is due
//   get <name> [watch=<inbox>#<sub>]  a read (with a watch request)
//   entries                           every entry as the judge sees it
//   apply <json> / query <json>       a raw command or read, as it came off the wire
//   snapshot                          snapshot, restore into a fresh table, read back
import { ExpiryJudge } from '../src/core/expiry-judge.js'
import { DEFAULT_TABLE_OPTIONS, LeaseTable } from '../src/core/lease-table.js'
import type { LeaseTableOptions } from '../src/core/lease-table.js'
import type { EntryStatus, ExpireItem, LeaseCommand, LeaseQuery, LeaseQueryResult, LeaseResult, NameInfo } from '../src/core/commands.js'
import type { TranscriptArgs as Args } from '@troupe/testkit/transcripts'

const LIMITS = Object.keys(DEFAULT_TABLE_OPTIONS) as Array<keyof LeaseTableOptions>

export class LeaseTableEnv {
  private table!: LeaseTable
  private judge!: ExpiryJudge
  private index = 0
  private term = 1
  private nowMs = 0
  private limits: LeaseTableOptions = {}
  /** What the listener heard during the current directive. */
  private heard: string[] = []

  constructor() {
    this.reset({})
  }

  handle(command: string, args: Args, line: string): string {
    this.heard = []
    const rest = line.slice(command.length).trim()
    switch (command) {
      case 'table': return this.reset(Object.fromEntries([...args.named].map(([k, v]) => [k, Number(v[0])])))
      case 'acquire': return this.acquire(args)
      case 'keepalive': {
        const [ref, name] = args.positional
        return this.apply({ op: 'keepAlive', name: name!, ...parseRef(ref!) })
      }
      case 'renew': {
        const [clientId, ...items] = args.positional
        return this.apply({ op: 'renew', clientId: clientId!, items: items.map((i) => ({ name: i.slice(0, i.lastIndexOf('#')), requestId: Number(i.slice(i.lastIndexOf('#') + 1)) })) })
      }
      case 'release': {
        const [ref, name] = args.positional
        return this.apply({ op: 'release', name: name!, ...parseRef(ref!) })
      }
      case 'expire': return this.expire(args)
      case 'tick':
        this.nowMs += Number(args.positional[0])
        return `now ${this.nowMs} ms`
      case 'elect':
        this.term++
        return `term ${this.term}`
      case 'reap': return this.reap()
      case 'get': return this.get(args)
      case 'entries': return [...this.table.entries()].map((e) => `${e.name} ${e.clientId}#${e.requestId} ttl=${e.ttlMs} renewed@${e.renewedIndex}`).join('\n') || 'none'
      case 'apply': return this.apply(JSON.parse(rest) as LeaseCommand)
      case 'query': return this.read(JSON.parse(rest) as LeaseQuery)
      case 'snapshot': return this.snapshot()
      default: throw new Error(`unknown directive ${command}`)
    }
  }

  private reset(limits: LeaseTableOptions): string {
    for (const key of Object.keys(limits)) if (!LIMITS.includes(key as keyof LeaseTableOptions)) throw new Error(`unknown table option ${key}`)
    this.limits = limits
    this.table = this.newTable()
    this.judge = new ExpiryJudge()
    this.index = 0
    this.term = 1
    this.nowMs = 0
    const shown = Object.entries(limits).map(([k, v]) => `${k}=${v}`)
    return shown.length === 0 ? 'table (default limits)' : `table ${shown.join(' ')}`
  }

  private newTable(): LeaseTable {
    const table = new LeaseTable(this.limits)
    table.setListener({
      granted: (name, e) => this.heard.push(`granted ${name} ${e.clientId}#${e.requestId} token=${e.token}${e.inbox === null ? '' : ` hint to ${e.inbox}`}`),
      changed: (name, revision) => this.heard.push(`changed ${name} revision=${revision}`),
      watch: (name, request) => {
        this.heard.push(`watch ${name} from ${request.inbox}#${request.subId}`)
        return { status: 'accepted', by: 'member' }
      },
      restored: () => this.heard.push('restored'),
    })
    return table
  }

  private acquire(args: Args): string {
    const [ref, name] = args.positional
    const { clientId, requestId } = parseRef(ref!)
    const one = (key: string) => args.named.get(key)?.[0]
    return this.apply({
      op: 'acquire', name: name!, clientId, requestId,
      mode: (one('mode') ?? 'exclusive') as 'exclusive' | 'shared',
      ttlMs: Number(one('ttl') ?? 1000),
      wait: !args.positional.includes('nowait'),
      inbox: one('inbox') ?? null,
      value: one('value') ?? null,
      settledBelow: Number(one('settled') ?? 0),
    })
  }

  private expire(args: Args): string {
    const [ref, name] = args.positional
    const { clientId, requestId } = parseRef(ref!)
    const current = [...this.table.entries()].find((e) => e.name === name && e.clientId === clientId && e.requestId === requestId)
    const renewedIndex = Number(args.named.get('renewed')?.[0] ?? current?.renewedIndex ?? 0)
    const term = Number(args.named.get('term')?.[0] ?? this.term)
    return this.apply({ op: 'expire', term, items: [{ name: name!, clientId, requestId, renewedIndex }] })
  }

  /** The leader's round, as LeaseService runs it: judge by this clock, propose `expire` for what is due. */
  private reap(): string {
    const max = this.limits.maxExpireItems ?? DEFAULT_TABLE_OPTIONS.maxExpireItems
    const items = this.judge.judge(this.term, this.nowMs, this.table.entries(), max)
    const judged = `judge at ${this.nowMs} ms, term ${this.term}: ${items.length === 0 ? 'nothing due' : items.map(itemText).join(', ')}`
    if (items.length === 0) return judged
    return `${judged}\n${this.apply({ op: 'expire', term: this.term, items })}`
  }

  private apply(command: LeaseCommand): string {
    const index = ++this.index
    const result = this.table.apply(command, { index, term: this.term, timeMs: this.nowMs })
    return [`@${index} ${commandText(command)}: ${resultText(command, result)}`, ...this.heard.map((h) => `  ${h}`)].join('\n')
  }

  private get(args: Args): string {
    const watch = args.named.get('watch')?.[0]
    const query: LeaseQuery = { op: 'get', name: args.positional[0]! }
    if (watch !== undefined) query.watch = { inbox: watch.slice(0, watch.lastIndexOf('#')), subId: Number(watch.slice(watch.lastIndexOf('#') + 1)) }
    return this.read(query)
  }

  private read(query: LeaseQuery): string {
    const result = this.table.query(query) as LeaseQueryResult
    const watch = result.watch === undefined ? [] : [`  watch: ${result.watch.status}${'by' in result.watch ? ` by ${result.watch.by}` : ''}`]
    return [infoText(result), ...this.heard.map((h) => `  ${h}`), ...watch].join('\n')
  }

  private snapshot(): string {
    const snap = this.table.snapshot()
    const names = new Set([...this.table.entries()].map((e) => e.name))
    this.table = this.newTable()
    this.table.restore(structuredClone(snap))
    return ['snapshot restored into a fresh table', ...this.heard.map((h) => `  ${h}`), ...[...names].map((n) => infoText(this.table.info(n)))].join('\n')
  }
}

/** A name or client id as it came: bare when it is a plain non-empty string, else as JSON (`""`, `undefined`). */
function word(x: unknown): string {
  return typeof x === 'string' && /^\S+$/.test(x) ? x : String(JSON.stringify(x))
}

function parseRef(ref: string): { clientId: string; requestId: number } {
  const at = ref.lastIndexOf('#')
  if (at <= 0) throw new Error(`expected <client>#<request>, got ${ref}`)
  return { clientId: ref.slice(0, at), requestId: Number(ref.slice(at + 1)) }
}

function itemText(i: ExpireItem): string {
  return `${i.name} ${i.clientId}#${i.requestId} renewed@${i.renewedIndex}`
}

function commandText(c: LeaseCommand): string {
  if (typeof c !== 'object' || c === null) return String(JSON.stringify(c))
  switch (c.op) {
    case 'acquire': return `acquire ${word(c.name)} ${word(c.clientId)}#${c.requestId}`
    case 'keepAlive': return `keepAlive ${word(c.name)} ${word(c.clientId)}#${c.requestId}`
    case 'renew': return `renew ${word(c.clientId)}`
    case 'release': return `release ${word(c.name)} ${word(c.clientId)}#${c.requestId}`
    case 'expire': return `expire term ${c.term}`
    default: return word((c as { op?: unknown }).op)
  }
}

function statusText(s: EntryStatus): string {
  switch (s.status) {
    case 'granted': return `granted token=${s.token}`
    case 'queued': return `queued position=${s.position}`
    case 'gone': return `gone (${s.reason})`
    case 'rejected':
    case 'invalid': return `${s.status}: ${s.reason}`
    default: return s.status
  }
}

function resultText(command: LeaseCommand, r: LeaseResult): string {
  if (r.status === 'done' && 'items' in r) {
    const items = (command as { items: Array<{ name: string; requestId: number }> }).items
    return ['done', ...r.items.map((s, i) => `  ${word(items[i]?.name)}#${items[i]?.requestId}: ${statusText(s)}`)].join('\n')
  }
  if (r.status === 'done' && 'expired' in r) return `done expired=${r.expired} stale=${r.stale} unknown=${r.unknown}`
  return statusText(r as EntryStatus)
}

function infoText(info: NameInfo): string {
  const holders = info.holders.map((h) => `${h.clientId}#${h.requestId} ${h.mode} token=${h.token}${h.value === null ? '' : ` value=${h.value}`}`)
  return `${word(info.name)}: holders [${holders.join(', ')}] waiters=${info.waiters} revision=${info.revision} lastToken=${info.lastToken}`
}
