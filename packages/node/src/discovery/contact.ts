import { DiscoveryError } from './discovery-error.js'

/**
 * Where a node's HTTP listener is reached: the endpoint that serves
 * `GET /bootstrap`. A host is an IPv4 or IPv6 address or a DNS name.
 */
export interface Contact {
  readonly host: string
  readonly port: number
}

/** Largest answer a discovery method accepts by default. */
export const DEFAULT_MAX_CONTACTS = 256

/** A stable text key for a contact: `host:port`, IPv6 hosts in brackets. */
export function contactKey(c: Contact): string {
  return c.host.includes(':') ? `[${c.host}]:${c.port}` : `${c.host}:${c.port}`
}

export function isValidPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536
}

/**
 * The answer every discovery method returns: checked, deduplicated and
 * sorted by host then port, so that equal sets compare equal. More than
 * `maxContacts` distinct contacts is a DISCOVERY_FAILED (the backend answered
 * something other than the nodes of one service), not a silent cut.
 */
export function normalizeContacts(backend: string, contacts: Iterable<Contact>, maxContacts: number): Contact[] {
  const byKey = new Map<string, Contact>()
  for (const c of contacts) {
    if (typeof c.host !== 'string' || c.host.length === 0 || c.host.length > 253 || !isValidPort(c.port)) {
      throw new DiscoveryError('DISCOVERY_FAILED', backend, `bad contact ${JSON.stringify(c)}`)
    }
    const host = c.host.toLowerCase()
    byKey.set(contactKey({ host, port: c.port }), { host, port: c.port })
    if (byKey.size > maxContacts) {
      throw new DiscoveryError('DISCOVERY_FAILED', backend, `answer has more than ${maxContacts} contacts (maxContacts)`)
    }
  }
  return [...byKey.values()].sort(compareContacts)
}

export function compareContacts(a: Contact, b: Contact): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1
  return a.port - b.port
}

/** Parses `host:port` or `[v6]:port`. */
export function parseContact(backend: string, text: string): Contact {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]\s]+):(\d+)$/.exec(text)
  const port = m ? Number(m[2]) : NaN
  if (!m || !isValidPort(port)) throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', backend, `'${text}' is not host:port`)
  return { host: m[1]!, port }
}
