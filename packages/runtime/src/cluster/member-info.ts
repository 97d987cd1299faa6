import { DEFAULT_VERSIONS, isVersionRange, sameRange } from '../wire-version.js'
import type { VersionRange } from '../wire-version.js'

/**
 * What a member says about itself when it joins, beyond its address: the
 * app version it runs, its roles, a small string map of metadata, and the
 * wire versions it speaks. Fixed for an incarnation (a node that changes
 * them restarts, as in a rolling upgrade).
 */
export interface MemberInfo {
  /** The app's version ('' when not given); new shards prefer the newest (numeric dotted parts compare as numbers). */
  readonly appVersion: string
  /** Sorted, without duplicates. */
  readonly roles: readonly string[]
  /** Keys sorted. */
  readonly metadata: Readonly<Record<string, string>>
  /** The wire versions the node speaks (its transport's range). */
  readonly wire: VersionRange
}

/** Bounds on a member's info, checked on the options and on every record from a peer. */
export const MEMBER_INFO_LIMITS = {
  maxAppVersionChars: 64,
  maxRoles: 32,
  maxRoleChars: 64,
  maxMetadataEntries: 32,
  maxMetadataKeyChars: 64,
  maxMetadataValueChars: 256,
  /** Sum of the lengths of all keys and values. */
  maxMetadataChars: 2048,
} as const

export const DEFAULT_MEMBER_INFO: MemberInfo = Object.freeze({ appVersion: '', roles: Object.freeze([]) as readonly string[], metadata: Object.freeze({}), wire: DEFAULT_VERSIONS })

/** True when `info` says nothing beyond the defaults (its record then travels in the short form). */
export function isDefaultInfo(info: MemberInfo): boolean {
  return info.appVersion === '' && info.roles.length === 0 && Object.keys(info.metadata).length === 0 && sameRange(info.wire, DEFAULT_VERSIONS)
}

/**
 * Checks and normalizes info from options or from the wire; calls `fail`
 * (which throws) with the first problem. Missing fields get their defaults.
 */
export function parseMemberInfo(
  raw: { appVersion?: unknown; roles?: unknown; metadata?: unknown; wireMin?: unknown; wireMax?: unknown },
  fail: (message: string) => never,
): MemberInfo {
  const L = MEMBER_INFO_LIMITS
  const appVersion = raw.appVersion ?? ''
  if (typeof appVersion !== 'string' || appVersion.length > L.maxAppVersionChars) fail(`appVersion must be a string of at most ${L.maxAppVersionChars} characters`)
  const rolesIn = raw.roles ?? []
  if (!Array.isArray(rolesIn) || rolesIn.length > L.maxRoles) fail(`roles must be an array of at most ${L.maxRoles} strings`)
  for (const r of rolesIn) if (typeof r !== 'string' || r.length === 0 || r.length > L.maxRoleChars) fail(`a role must be a string of 1-${L.maxRoleChars} characters`)
  const roles = Object.freeze([...new Set(rolesIn as string[])].sort())
  const metaIn = raw.metadata ?? {}
  if (typeof metaIn !== 'object' || metaIn === null || Array.isArray(metaIn) || metaIn instanceof Uint8Array || metaIn instanceof Map) fail('metadata must be an object of strings')
  const entries = Object.entries(metaIn as object)
  if (entries.length > L.maxMetadataEntries) fail(`metadata has ${entries.length} entries, more than ${L.maxMetadataEntries}`)
  let chars = 0
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > L.maxMetadataKeyChars) fail(`a metadata key must have 1-${L.maxMetadataKeyChars} characters`)
    if (typeof v !== 'string' || v.length > L.maxMetadataValueChars) fail(`metadata '${k.slice(0, 64)}' must be a string of at most ${L.maxMetadataValueChars} characters`)
    chars += k.length + v.length
  }
  if (chars > L.maxMetadataChars) fail(`metadata of ${chars} characters exceeds ${L.maxMetadataChars}`)
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const metadata: Record<string, string> = Object.create(null)
  for (const [k, v] of entries) metadata[k] = v as string
  const wireMin = raw.wireMin ?? DEFAULT_VERSIONS.min
  const wireMax = raw.wireMax ?? (raw.wireMin === undefined ? DEFAULT_VERSIONS.max : wireMin)
  if (!isVersionRange(wireMin, wireMax)) fail('the wire version range must be integers 1 <= min <= max')
  const wire = sameRange({ min: wireMin as number, max: wireMax as number }, DEFAULT_VERSIONS) ? DEFAULT_VERSIONS : Object.freeze({ min: wireMin as number, max: wireMax as number })
  return Object.freeze({ appVersion, roles, metadata: Object.freeze(metadata), wire })
}

/** The info as the trailing fields of a member record: [appVersion, roles, metadata, wireMin, wireMax]. */
export function infoToWire(info: MemberInfo): [string, string[], Record<string, string>, number, number] {
  return [info.appVersion, [...info.roles], { ...info.metadata }, info.wire.min, info.wire.max]
}

/** The part of a membership digest that names the info; '' for the default, so records without info hash as before. */
export function infoDigestPart(info: MemberInfo | undefined): string {
  if (info === undefined || isDefaultInfo(info)) return ''
  const meta = Object.entries(info.metadata).map(([k, v]) => `${k}=${v}`).join('\u0002')
  return `\u0000${info.appVersion}\u0000${info.roles.join('\u0002')}\u0000${meta}\u0000${info.wire.min}-${info.wire.max}`
}

/**
 * Orders app versions: numeric dotted parts compare as numbers ('1.10.0' >
 * '1.9.2'), a part that is not a number compares as a string, and a version
 * with more parts wins a tie on the shared ones ('1.2.1' > '1.2'). '' is the
 * lowest. Negative when `a` is older.
 */
export function compareAppVersions(a: string, b: string): number {
  if (a === b) return 0
  const pa = a.split('.')
  const pb = b.split('.')
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]
    const y = pb[i]
    if (x === y) continue
    const nx = /^\d+$/.test(x) ? Number(x) : NaN
    const ny = /^\d+$/.test(y) ? Number(y) : NaN
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny
    if (!Number.isNaN(nx) !== !Number.isNaN(ny)) return Number.isNaN(nx) ? -1 : 1
    return x < y ? -1 : 1
  }
  return pa.length - pb.length
}

/**
 * The cluster version of a member set: the minimum over the members of the
 * top of their wire range (`fallback` for an empty set).
 */
export function clusterVersionOf(members: Iterable<{ readonly wire: VersionRange }>, fallback: number): number {
  let version = Infinity
  for (const m of members) version = Math.min(version, m.wire.max)
  return version === Infinity ? fallback : version
}
