// A NodeConfig from environment variables (`TROUPE_*`) or a JSON file, for
// deployments. Both merge over a `base` config from code (which carries
// what neither can: entity kinds, saga definitions, injected parts), and
// name the variable or key of any bad value in a TroupeError INVALID_ARGUMENT.
import { readFileSync } from 'node:fs'
import { invalid, resolveConfig } from './config-check.js'
import type { NodeConfig, OperatorToken } from './node-config.js'

/** The environment variables `configFromEnv` reads, and the field each sets. */
export const ENV_VARS = {
  TROUPE_NODE: 'name',
  TROUPE_HOST: 'listen.host',
  TROUPE_PORT: 'listen.port',
  TROUPE_ADVERTISE: 'advertise',
  TROUPE_SECRET: 'secret',
  TROUPE_SEEDS: 'seeds',
  TROUPE_DATA_DIR: 'dataDir',
  TROUPE_HTTP_HOST: 'http.host',
  TROUPE_HTTP_PORT: 'http.port',
  TROUPE_OPERATOR_TOKENS: 'http.operatorTokens',
  TROUPE_APP_VERSION: 'appVersion',
  TROUPE_ROLES: 'roles',
  TROUPE_METADATA: 'metadata',
  TROUPE_RAFT_MEMBERS: 'raftMembers',
  TROUPE_DISCOVERY: 'discovery.method',
  TROUPE_DISCOVERY_CONTACTS: 'discovery.contacts',
  TROUPE_DISCOVERY_DNS_NAME: 'discovery.name',
  TROUPE_DISCOVERY_DNS_PORT: 'discovery.port',
  TROUPE_DISCOVERY_K8S_SELECTOR: 'discovery.labelSelector',
  TROUPE_DISCOVERY_K8S_NAMESPACE: 'discovery.namespace',
  TROUPE_EXIT_CODE: 'exitCode',
} as const

/** Keys a JSON config file may hold (everything that is plain data). */
const FILE_KEYS = new Set(['name', 'listen', 'advertise', 'secret', 'tls', 'seeds', 'discovery', 'dataDir', 'http', 'appVersion', 'roles', 'metadata', 'cluster', 'raftMembers', 'shutdown', 'installSignalHandlers', 'exitCode'])

/**
 * The config `base` with every `TROUPE_*` variable of `env` applied over it
 * (see ENV_VARS and the README), checked as startNode checks it.
 */
export function configFromEnv(env: Record<string, string | undefined>, base: Partial<NodeConfig> = {}): NodeConfig {
  const c: Partial<NodeConfig> = { ...base }
  const v = (name: keyof typeof ENV_VARS): string | undefined => {
    const value = env[name]
    return value === undefined || value.trim() === '' ? undefined : value.trim()
  }
  if (v('TROUPE_NODE')) c.name = v('TROUPE_NODE')
  if (v('TROUPE_HOST') || v('TROUPE_PORT')) {
    c.listen = { host: v('TROUPE_HOST') ?? c.listen?.host ?? '127.0.0.1', port: v('TROUPE_PORT') ? int('TROUPE_PORT', v('TROUPE_PORT')!, 0, 65535) : (c.listen?.port ?? 0) }
  }
  if (v('TROUPE_ADVERTISE')) c.advertise = v('TROUPE_ADVERTISE')
  if (env.TROUPE_SECRET !== undefined) c.secret = env.TROUPE_SECRET
  if (v('TROUPE_SEEDS')) c.seeds = pairs('TROUPE_SEEDS', v('TROUPE_SEEDS')!).map(([node, address]) => ({ node, address }))
  if (v('TROUPE_DATA_DIR')) c.dataDir = v('TROUPE_DATA_DIR')
  if (v('TROUPE_HTTP_PORT') || v('TROUPE_HTTP_HOST') || v('TROUPE_OPERATOR_TOKENS')) {
    const port = v('TROUPE_HTTP_PORT') ? int('TROUPE_HTTP_PORT', v('TROUPE_HTTP_PORT')!, 0, 65535) : c.http?.port
    if (port === undefined) throw invalid('TROUPE_HTTP_PORT (http.port)', 'is required when TROUPE_HTTP_HOST or TROUPE_OPERATOR_TOKENS is set')
    const host = v('TROUPE_HTTP_HOST') ?? c.http?.host
    const tokens = v('TROUPE_OPERATOR_TOKENS') ? operatorTokens(v('TROUPE_OPERATOR_TOKENS')!) : c.http?.operatorTokens
    c.http = { port, ...(host ? { host } : {}), ...(tokens ? { operatorTokens: tokens } : {}) }
  }
  if (v('TROUPE_APP_VERSION')) c.appVersion = v('TROUPE_APP_VERSION')
  if (v('TROUPE_ROLES')) c.roles = list(v('TROUPE_ROLES')!)
  if (v('TROUPE_METADATA')) c.metadata = Object.fromEntries(pairs('TROUPE_METADATA', v('TROUPE_METADATA')!))
  if (v('TROUPE_RAFT_MEMBERS')) c.raftMembers = list(v('TROUPE_RAFT_MEMBERS')!)
  if (v('TROUPE_EXIT_CODE')) c.exitCode = int('TROUPE_EXIT_CODE', v('TROUPE_EXIT_CODE')!, 0, 255)
  const method = v('TROUPE_DISCOVERY')
  if (method !== undefined) c.discovery = discoveryFromEnv(method, v)
  const config = c as NodeConfig
  resolveConfig(config)
  return config
}

/** The config in a JSON file (plain-data fields only), merged over `base`, checked as startNode checks it. */
export function configFromFile(path: string, base: Partial<NodeConfig> = {}): NodeConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw invalid(`config file ${path}`, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw invalid(`config file ${path}`, `is not valid JSON: ${(err as Error).message}`)
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw invalid(`config file ${path}`, 'must hold a JSON object')
  for (const key of Object.keys(data)) {
    if (!FILE_KEYS.has(key)) throw invalid(`${key} (in ${path})`, `is not a config field a file may set (${[...FILE_KEYS].join(', ')})`)
  }
  const config = { ...base, ...(data as Partial<NodeConfig>) } as NodeConfig
  try {
    resolveConfig(config)
  } catch (err) {
    throw Object.assign(err as Error, { message: `${(err as Error).message} (in ${path})` })
  }
  return config
}

function discoveryFromEnv(method: string, v: (name: keyof typeof ENV_VARS) => string | undefined): NonNullable<NodeConfig['discovery']> {
  switch (method) {
    case 'contacts':
      return { method, contacts: list(required('TROUPE_DISCOVERY_CONTACTS', v('TROUPE_DISCOVERY_CONTACTS'))) }
    case 'dns': {
      const port = v('TROUPE_DISCOVERY_DNS_PORT')
      return { method, name: required('TROUPE_DISCOVERY_DNS_NAME', v('TROUPE_DISCOVERY_DNS_NAME')), ...(port ? { port: int('TROUPE_DISCOVERY_DNS_PORT', port, 1, 65535) } : {}) }
    }
    case 'kubernetes': {
      const namespace = v('TROUPE_DISCOVERY_K8S_NAMESPACE')
      return { method, labelSelector: required('TROUPE_DISCOVERY_K8S_SELECTOR', v('TROUPE_DISCOVERY_K8S_SELECTOR')), ...(namespace ? { namespace } : {}) }
    }
    default:
      throw invalid('TROUPE_DISCOVERY (discovery.method)', `must be 'contacts', 'dns' or 'kubernetes' (static seeds: TROUPE_SEEDS), got ${JSON.stringify(method)}`)
  }
}

function required(name: keyof typeof ENV_VARS, value: string | undefined): string {
  if (value === undefined) throw invalid(`${name} (${ENV_VARS[name]})`, 'is required by the chosen discovery method')
  return value
}

function int(name: keyof typeof ENV_VARS, text: string, min: number, max: number): number {
  const n = Number(text)
  if (!(/^\d+$/.test(text) && Number.isSafeInteger(n) && n >= min && n <= max)) throw invalid(`${name} (${ENV_VARS[name]})`, `must be an integer ${min}..${max}, got ${JSON.stringify(text)}`)
  return n
}

function list(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean)
}

/** `a=x,b=y` → [['a','x'], ['b','y']]. */
function pairs(name: keyof typeof ENV_VARS, text: string): Array<[string, string]> {
  return list(text).map((part) => {
    const eq = part.indexOf('=')
    if (eq <= 0 || eq === part.length - 1) throw invalid(`${name} (${ENV_VARS[name]})`, `'${part}' must look like name=value`)
    return [part.slice(0, eq).trim(), part.slice(eq + 1).trim()]
  })
}

/** `token:role,token:role`. */
function operatorTokens(text: string): OperatorToken[] {
  return list(text).map((part) => {
    const colon = part.lastIndexOf(':')
    const role = part.slice(colon + 1)
    if (colon <= 0 || (role !== 'read' && role !== 'admin')) throw invalid('TROUPE_OPERATOR_TOKENS (http.operatorTokens)', "each entry must look like <token>:read or <token>:admin")
    return { token: part.slice(0, colon), role }
  })
}
