// A tiny authoritative DNS server for tests, on 127.0.0.1 UDP port 0:
// A, AAAA and SRV records the test sets (and changes) while it runs, and
// modes that fail (SERVFAIL) or never answer.
import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import * as dnsPacket from 'dns-packet'

type RecordType = 'A' | 'AAAA' | 'SRV'
export type SrvRecord = { target: string; port: number; priority?: number; weight?: number }

const NXDOMAIN = 3
const SERVFAIL = 2

export class TestDnsServer {
  /** How the server answers: with its records, SERVFAIL, or not at all. */
  mode: 'answer' | 'servfail' | 'silent' = 'answer'
  queries = 0
  private readonly records = new Map<string, Array<string | SrvRecord>>()

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (msg, rinfo) => this.onQuery(msg, rinfo.port, rinfo.address))
  }

  static async start(): Promise<TestDnsServer> {
    const socket = createSocket('udp4')
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, '127.0.0.1', () => resolve())
    })
    return new TestDnsServer(socket, socket.address().port)
  }

  /** `127.0.0.1:<port>`, for `servers`. */
  get server(): string {
    return `127.0.0.1:${this.port}`
  }

  set(type: 'A' | 'AAAA', name: string, addresses: string[]): void
  set(type: 'SRV', name: string, records: SrvRecord[]): void
  set(type: RecordType, name: string, data: Array<string | SrvRecord>): void {
    this.records.set(`${type} ${name.toLowerCase()}`, data)
  }

  delete(type: RecordType, name: string): void {
    this.records.delete(`${type} ${name.toLowerCase()}`)
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()))
  }

  private onQuery(msg: Buffer, port: number, address: string): void {
    this.queries++
    if (this.mode === 'silent') return
    let query: dnsPacket.DecodedPacket
    try {
      query = dnsPacket.decode(msg)
    } catch {
      return
    }
    const q = query.questions?.[0]
    if (!q) return
    const name = q.name.toLowerCase()
    const known = [...this.records.keys()].some((k) => k.endsWith(` ${name}`))
    const data = this.records.get(`${q.type} ${name}`) ?? []
    const rcode = this.mode === 'servfail' ? SERVFAIL : known ? 0 : NXDOMAIN
    const answers = rcode !== 0 ? [] : data.map((d) => this.answer(q.type as RecordType, q.name, d))
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | dnsPacket.RECURSION_DESIRED | rcode,
      questions: [q],
      answers,
    })
    this.socket.send(reply, port, address)
  }

  private answer(type: RecordType, name: string, d: string | SrvRecord): dnsPacket.Answer {
    if (type === 'SRV') {
      const s = d as SrvRecord
      return { type: 'SRV', name, ttl: 5, data: { target: s.target, port: s.port, priority: s.priority ?? 0, weight: s.weight ?? 10 } }
    }
    return { type, name, ttl: 5, data: d as string }
  }
}
