// Value identity and printing shared by the built-in models. Values are plain
// data (JSON-like); two values are the same when their canonical keys match.

/** A canonical string for plain data: type-tagged, object keys sorted. */
export function valueKey(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'u'
    case 'number':
      return `n${value}`
    case 'string':
      return `s${value}`
    case 'boolean':
      return value ? 't' : 'f'
    case 'bigint':
      return `b${value}`
    default:
      return `j${canonicalJson(value)}`
  }
}

export function sameValue(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || valueKey(a) === valueKey(b)
}

/** Printable form for explanations: JSON where possible. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined'
  if (typeof value === 'bigint') return `${value}n`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? String(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const record = value as Record<string, unknown>
  const keys = Object.keys(record).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`
}
