// Checks a NodeConfig and fills in its defaults. Every bad value is a
// TroupeError INVALID_ARGUMENT whose message starts with the field's name.
import { Buffer } from 'node:buffer'
import { TroupeError } from '@troupe/runtime/errors'
import type { SeedNode } from '@troupe/runtime'
import type { HttpConfig, NodeConfig, OperatorToken, ShutdownPhaseName, ShutdownTimeouts } from './node-config.js'

const NAME = /^[A-Za-z0-9_.-]{1,64}$/
const MIN_SECRET_BYTES = 16
const MIN_TOKEN_CHARS = 16

/** Default timeout of each shutdown phase, in ms (Akka's CoordinatedShutdown keeps similar ones). */
export const DEFAULT_SHUTDOWN_TIMEOUTS: Readonly<Record<ShutdownPhaseName, number>> = {
  'not-ready': 1000,
  'stop-work': 5000,
  sagas: 10_000,
  'transfer-leadership': 5000,
  'release-leases': 5000,
  'hand-off-shards': 10_000,
  'leave-cluster': 5000,
  'stop-services': 5000,
  'terminate-system': 5000,
  'close-listeners': 2000,
}

export interface ResolvedNodeConfig {
  readonly config: NodeConfig
  readonly name: string
  /** Seeds for Cluster.start; empty when discovery finds them. */
  readonly seeds: SeedNode[]
  readonly raftMembers: string[]
  readonly needsDisk: boolean
  readonly shutdownTimeouts: Record<ShutdownPhaseName, number>
  readonly http: (Required<Omit<HttpConfig, 'operatorTokens'>> & { operatorTokens: OperatorToken[] }) | null
  /** Host others reach this node by. */
  readonly advertise: string
  readonly installSignalHandlers: boolean
}

export function invalid(field: string, problem: string): TroupeError {
  return new TroupeError('INVALID_ARGUMENT', `${field}: ${problem}`)
}

export function resolveConfig(config: NodeConfig): ResolvedNodeConfig {
  if (config === null || typeof config !== 'object') throw invalid('config', 'must be an object')
  const name = config.name
  if (typeof name !== 'string' || !NAME.test(name)) throw invalid('name', `must be 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`)
  if (config.transport === undefined) {
    checkListen('listen', config.listen)
    if (config.tls === undefined || config.secret !== undefined) checkSecret(config.secret)
  } else if (config.listen !== undefined) checkListen('listen', config.listen)
  const seeds = checkSeeds('seeds', config.seeds ?? [])
  if (config.discovery !== undefined) {
    const method = (config.discovery as { method?: unknown })?.method
    if (method !== 'static' && method !== 'contacts' && method !== 'dns' && method !== 'kubernetes') throw invalid('discovery.method', `must be 'static', 'contacts', 'dns' or 'kubernetes', got ${JSON.stringify(method)}`)
    if (config.seeds !== undefined) throw invalid('seeds', 'give seeds or discovery, not both')
    if (method === 'static') seeds.push(...checkSeeds('discovery.seeds', (config.discovery as { seeds?: SeedNode[] }).seeds ?? []))
    else if (typeof config.secret !== 'string') throw invalid('secret', `discovery '${method}' signs bootstrap probes with the cluster secret: set secret`)
    else if (config.http === undefined) throw invalid('http', `discovery '${method}' answers bootstrap probes on the HTTP listener: configure http`)
  }
  const raftMembers = config.raftMembers ?? (seeds.length > 0 ? seeds.map((s) => s.node) : [name])
  checkNames('raftMembers', raftMembers)
  const services = config.services ?? {}
  if (services.sharding !== undefined && !Array.isArray(services.sharding.entities)) throw invalid('services.sharding.entities', 'must be an array of entity definitions')
  if (services.leases?.members !== undefined) checkNames('services.leases.members', services.leases.members)
  if (services.sagas !== undefined) {
    if (!Array.isArray(services.sagas.definitions)) throw invalid('services.sagas.definitions', 'must be an array of saga definitions')
    if (services.sagas.members !== undefined) checkNames('services.sagas.members', services.sagas.members)
    const every = services.sagas.recoverEveryMs
    if (every !== undefined && !(Number.isFinite(every) && every >= 0)) throw invalid('services.sagas.recoverEveryMs', `must be a number of ms >= 0, got ${every}`)
  }
  const needsDisk = services.raft !== undefined || services.leases !== undefined || services.sagas !== undefined
  if (needsDisk && config.disk === undefined && (typeof config.dataDir !== 'string' || config.dataDir.length === 0)) {
    throw invalid('dataDir', 'is required when Raft groups, leases or sagas run (or inject `disk`)')
  }
  const http = config.http === undefined ? null : checkHttp(config.http, config.listen?.host ?? '127.0.0.1')
  const listenHost = config.listen?.host ?? '127.0.0.1'
  const advertise = config.advertise ?? (listenHost === '0.0.0.0' || listenHost === '::' ? '127.0.0.1' : listenHost)
  if (typeof advertise !== 'string' || advertise.length === 0) throw invalid('advertise', 'must be a host name')
  if (config.exitCode !== undefined && !(Number.isInteger(config.exitCode) && config.exitCode >= 0 && config.exitCode <= 255)) throw invalid('exitCode', `must be an integer 0..255, got ${config.exitCode}`)
  for (const key of ['appVersion'] as const) if (config[key] !== undefined && typeof config[key] !== 'string') throw invalid(key, 'must be a string')
  if (config.roles !== undefined && !(Array.isArray(config.roles) && config.roles.every((r) => typeof r === 'string' && r.length > 0))) throw invalid('roles', 'must be an array of non-empty strings')
  if (config.metadata !== undefined && !(typeof config.metadata === 'object' && Object.values(config.metadata).every((v) => typeof v === 'string'))) throw invalid('metadata', 'must map names to strings')
  return {
    config,
    name,
    seeds,
    raftMembers,
    needsDisk,
    shutdownTimeouts: checkTimeouts(config.shutdown ?? {}),
    http,
    advertise,
    installSignalHandlers: config.installSignalHandlers ?? config.transport === undefined,
  }
}

function checkListen(field: string, listen: NodeConfig['listen']): void {
  if (listen === undefined || listen === null || typeof listen !== 'object') throw invalid(field, 'is required: { host, port }')
  if (typeof listen.host !== 'string' || listen.host.length === 0) throw invalid(`${field}.host`, 'must be a host name or address')
  checkPort(`${field}.port`, listen.port)
}

export function checkPort(field: string, port: unknown): void {
  if (!(typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535)) throw invalid(field, `must be a port number 0..65535, got ${JSON.stringify(port)}`)
}

function checkSecret(secret: unknown): void {
  if (typeof secret !== 'string') throw invalid('secret', `is required (at least ${MIN_SECRET_BYTES} bytes, the same on every node)`)
  if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) throw invalid('secret', `must be at least ${MIN_SECRET_BYTES} bytes, got ${Buffer.byteLength(secret)}`)
}

function checkSeeds(field: string, seeds: unknown): SeedNode[] {
  if (!Array.isArray(seeds)) throw invalid(field, 'must be an array of { node, address }')
  return seeds.map((s, i) => {
    const seed = s as Partial<SeedNode> | null
    if (!seed || typeof seed.node !== 'string' || !NAME.test(seed.node)) throw invalid(`${field}[${i}].node`, `must be a node name, got ${JSON.stringify(seed?.node)}`)
    if (typeof seed.address !== 'string' || seed.address.length === 0) throw invalid(`${field}[${i}].address`, 'must be an address (ws://host:port)')
    return { node: seed.node, address: seed.address }
  })
}

function checkNames(field: string, names: unknown): void {
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && NAME.test(n))) throw invalid(field, 'must be a non-empty array of node names')
  if (new Set(names).size !== names.length) throw invalid(field, 'must not repeat a name')
}

function checkHttp(http: HttpConfig, defaultHost: string): ResolvedNodeConfig['http'] {
  if (http === null || typeof http !== 'object') throw invalid('http', 'must be { host?, port, operatorTokens? }')
  checkPort('http.port', http.port)
  const host = http.host ?? defaultHost
  if (typeof host !== 'string' || host.length === 0) throw invalid('http.host', 'must be a host name or address')
  const tokens = http.operatorTokens ?? []
  if (!Array.isArray(tokens)) throw invalid('http.operatorTokens', 'must be an array of { token, role }')
  tokens.forEach((t, i) => {
    if (!t || typeof t.token !== 'string' || t.token.length < MIN_TOKEN_CHARS) throw invalid(`http.operatorTokens[${i}].token`, `must be at least ${MIN_TOKEN_CHARS} characters`)
    if (t.role !== 'read' && t.role !== 'admin') throw invalid(`http.operatorTokens[${i}].role`, `must be 'read' or 'admin', got ${JSON.stringify(t.role)}`)
  })
  return { host, port: http.port, operatorTokens: tokens.map((t) => ({ token: t.token, role: t.role })) }
}

function checkTimeouts(overrides: ShutdownTimeouts): Record<ShutdownPhaseName, number> {
  const out = { ...DEFAULT_SHUTDOWN_TIMEOUTS }
  for (const [phase, ms] of Object.entries(overrides)) {
    if (!(phase in out)) throw invalid(`shutdown.${phase}`, `is not a shutdown phase (${Object.keys(out).join(', ')})`)
    if (!(typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)) throw invalid(`shutdown.${phase}`, `must be a number of ms >= 0, got ${ms}`)
    out[phase as ShutdownPhaseName] = ms
  }
  return out
}
