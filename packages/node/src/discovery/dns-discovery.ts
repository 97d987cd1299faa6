import { Resolver } from 'node:dns/promises'
import { DEFAULT_MAX_CONTACTS, isValidPort, normalizeContacts } from './contact.js'
import type { Contact } from './contact.js'
import type { DnsDiscoveryConfig } from './discovery-config.js'
import { DiscoveryError } from './discovery-error.js'
import type { Discovery } from './discovery-method.js'

/** Resolver answers that mean "no such records": an empty answer, not a failure. */
const EMPTY_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'ENODATA'])
/** SRV targets resolved at once per lookup (each is up to two queries). */
const TARGET_CONCURRENCY = 16

/**
 * The records of a (headless) service through Node's resolver: A or AAAA
 * (every address with the configured port) or SRV (each target with its
 * port; targets are resolved through the same servers, A then AAAA, and a
 * target they do not know stays a host name for the OS resolver).
 */
export class DnsDiscovery implements Discovery {
  readonly backend = 'dns'
  private readonly recordType: 'A' | 'AAAA' | 'SRV'
  private readonly maxContacts: number

  constructor(private readonly config: Omit<DnsDiscoveryConfig, 'method'>) {
    if (typeof config.name !== 'string' || config.name.length === 0 || config.name.length > 253) {
      throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', this.backend, `bad name ${JSON.stringify(config.name)}`)
    }
    this.recordType = config.recordType ?? (config.port === undefined ? 'SRV' : 'A')
    if (this.recordType !== 'SRV' && !isValidPort(config.port)) {
      throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', this.backend, `${this.recordType} records need a port (1-65535), got ${config.port}`)
    }
    if (!['A', 'AAAA', 'SRV'].includes(this.recordType)) {
      throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', this.backend, `recordType must be A, AAAA or SRV, got ${String(this.recordType)}`)
    }
    this.maxContacts = config.maxContacts ?? DEFAULT_MAX_CONTACTS
    this.newResolver() // checks the servers now rather than at the first lookup
  }

  async lookup(signal?: AbortSignal): Promise<Contact[]> {
    const resolver = this.newResolver()
    const cancel = () => resolver.cancel()
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      const { name } = this.config
      if (this.recordType === 'SRV') return await this.lookupSrv(resolver, name)
      const port = this.config.port!
      const addresses = await this.query(() => (this.recordType === 'A' ? resolver.resolve4(name) : resolver.resolve6(name)), name)
      return normalizeContacts(this.backend, addresses.map((host) => ({ host, port })), this.maxContacts)
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  private async lookupSrv(resolver: Resolver, name: string): Promise<Contact[]> {
    const records = await this.query(() => resolver.resolveSrv(name), name)
    if (records.length > this.maxContacts) {
      throw new DiscoveryError('DISCOVERY_FAILED', this.backend, `${name} has ${records.length} SRV records, more than ${this.maxContacts} (maxContacts)`)
    }
    const contacts: Contact[] = []
    for (let i = 0; i < records.length; i += TARGET_CONCURRENCY) {
      const batch = records.slice(i, i + TARGET_CONCURRENCY)
      const resolved = await Promise.all(batch.map((r) => this.resolveTarget(resolver, r.name)))
      batch.forEach((r, j) => {
        for (const host of resolved[j]!) contacts.push({ host, port: r.port })
      })
    }
    return normalizeContacts(this.backend, contacts, this.maxContacts)
  }

  /** A target's addresses through the configured servers; the name itself if they have none. */
  private async resolveTarget(resolver: Resolver, target: string): Promise<string[]> {
    const v4 = await this.query(() => resolver.resolve4(target), target)
    if (v4.length > 0) return v4
    const v6 = await this.query(() => resolver.resolve6(target), target)
    return v6.length > 0 ? v6 : [target.replace(/\.$/, '')]
  }

  private async query<T>(run: () => Promise<T[]>, name: string): Promise<T[]> {
    try {
      return await run()
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (typeof code === 'string' && EMPTY_CODES.has(code)) return []
      throw new DiscoveryError('DISCOVERY_FAILED', this.backend, `resolving ${name} failed: ${typeof code === 'string' ? code : String(err)}`, { cause: err })
    }
  }

  private newResolver(): Resolver {
    const resolver = new Resolver({ timeout: this.config.timeoutMs ?? 2000, tries: this.config.tries ?? 2 })
    if (this.config.servers !== undefined) {
      try {
        resolver.setServers([...this.config.servers])
      } catch (err) {
        throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', this.backend, `bad servers ${JSON.stringify(this.config.servers)}: ${String(err)}`, { cause: err })
      }
    }
    return resolver
  }
}
