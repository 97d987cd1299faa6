import { readFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { join } from 'node:path'
import { DEFAULT_MAX_CONTACTS, normalizeContacts } from './contact.js'
import type { Contact } from './contact.js'
import { SERVICE_ACCOUNT_DIR } from './discovery-config.js'
import type { KubernetesDiscoveryConfig } from './discovery-config.js'
import { DiscoveryError } from './discovery-error.js'
import type { Discovery } from './discovery-method.js'
import { podContacts } from './pod-list.js'

const BACKEND = 'kubernetes'

export interface KubernetesDiscoveryDeps {
  /** The environment to read KUBERNETES_SERVICE_HOST/PORT from (default: process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>
  readonly log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object) => void
}

/**
 * Pods of a label selector through the Kubernetes API
 * (`GET /api/v1/namespaces/<ns>/pods?labelSelector=...`) with the pod's
 * service account token; https with the service account's CA. The token and
 * namespace files are read at every lookup (bound tokens rotate).
 */
export class KubernetesDiscovery implements Discovery {
  readonly backend = BACKEND
  private readonly apiUrl: URL
  private readonly tokenFile: string
  private readonly caFile: string
  private readonly portName: string
  private readonly timeoutMs: number
  private readonly maxBodyBytes: number
  private readonly maxContacts: number

  constructor(
    private readonly config: Omit<KubernetesDiscoveryConfig, 'method'>,
    private readonly deps: KubernetesDiscoveryDeps = {},
  ) {
    if (typeof config.labelSelector !== 'string' || config.labelSelector.trim() === '' || config.labelSelector.length > 1024) {
      throw invalid(`labelSelector must be a non-empty string, got ${JSON.stringify(config.labelSelector)}`)
    }
    if (config.namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(config.namespace)) {
      throw invalid(`bad namespace ${JSON.stringify(config.namespace)}`)
    }
    this.apiUrl = resolveApiUrl(config.apiUrl, deps.env ?? process.env)
    this.tokenFile = config.tokenFile ?? join(SERVICE_ACCOUNT_DIR, 'token')
    this.caFile = config.caFile ?? join(SERVICE_ACCOUNT_DIR, 'ca.crt')
    this.portName = config.portName ?? 'management'
    this.timeoutMs = config.timeoutMs ?? 5000
    this.maxBodyBytes = config.maxBodyBytes ?? 16 * 1024 * 1024
    this.maxContacts = config.maxContacts ?? DEFAULT_MAX_CONTACTS
  }

  async lookup(signal?: AbortSignal): Promise<Contact[]> {
    const token = (await readSecret(this.tokenFile, 'token')).trim()
    const namespace = this.config.namespace ?? ((await readOptional(join(SERVICE_ACCOUNT_DIR, 'namespace')))?.trim() || 'default')
    const url = new URL(`api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, this.apiUrl)
    url.searchParams.set('labelSelector', this.config.labelSelector)
    const ca = url.protocol === 'https:' ? await readSecret(this.caFile, 'CA certificate') : undefined
    const body = await this.get(url, token, ca, signal)
    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch (err) {
      throw new DiscoveryError('DISCOVERY_FAILED', BACKEND, `the pod list is not JSON (${body.length} bytes)`, { cause: err })
    }
    const { contacts, skipped } = podContacts(parsed, this.portName)
    if (Object.keys(skipped).length > 0) this.deps.log?.('debug', 'kubernetes discovery skipped pods', { skipped })
    return normalizeContacts(BACKEND, contacts, this.maxContacts)
  }

  private get(url: URL, token: string, ca: string | undefined, signal?: AbortSignal): Promise<string> {
    return new Promise((resolve, reject) => {
      const fail = (msg: string, cause?: unknown) => reject(new DiscoveryError('DISCOVERY_FAILED', BACKEND, msg, { cause }))
      const options = {
        method: 'GET',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        timeout: this.timeoutMs,
        ...(signal ? { signal } : {}),
      }
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (chunk: Buffer) => {
          size += chunk.length
          if (size > this.maxBodyBytes) {
            req.destroy()
            fail(`the answer is larger than ${this.maxBodyBytes} bytes (maxBodyBytes)`)
          } else chunks.push(chunk)
        })
        res.on('error', (err) => fail(`reading the answer failed: ${err.message}`, err))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (res.statusCode === 200) return resolve(text)
          fail(`GET ${url.pathname} answered ${res.statusCode}${statusMessage(text)}`)
        })
      }
      const req = url.protocol === 'https:' ? httpsRequest(url, { ...options, ca }, onResponse) : httpRequest(url, options, onResponse)
      // The socket timeout bounds a silent server; the caller's signal bounds the whole lookup.
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)))
      req.on('error', (err) => fail(`GET ${url.host}${url.pathname} failed: ${err.message}`, err))
      req.end()
    })
  }
}

function resolveApiUrl(apiUrl: string | undefined, env: Readonly<Record<string, string | undefined>>): URL {
  let text = apiUrl
  if (text === undefined) {
    const host = env.KUBERNETES_SERVICE_HOST
    const port = env.KUBERNETES_SERVICE_PORT ?? '443'
    if (!host) throw invalid('no apiUrl and no KUBERNETES_SERVICE_HOST: not running in a pod?')
    text = `https://${host.includes(':') ? `[${host}]` : host}:${port}`
  }
  let url: URL
  try {
    url = new URL(text.endsWith('/') ? text : `${text}/`)
  } catch (err) {
    throw invalid(`bad apiUrl ${JSON.stringify(text)}`, err)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`apiUrl must be http(s), got ${url.protocol}`)
  return url
}

/** The Kubernetes Status message in an error body, if there is one. */
function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown }
    return typeof status.message === 'string' ? `: ${status.message.slice(0, 300)}` : ''
  } catch {
    return ''
  }
}

async function readSecret(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new DiscoveryError('DISCOVERY_FAILED', BACKEND, `cannot read the service account ${what} ${path}: ${(err as Error).message}`, { cause: err })
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch {
    return undefined
  }
}

function invalid(msg: string, cause?: unknown): DiscoveryError {
  return new DiscoveryError('INVALID_DISCOVERY_CONFIG', BACKEND, msg, cause === undefined ? undefined : { cause })
}
