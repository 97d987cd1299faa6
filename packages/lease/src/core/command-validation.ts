export interface InputLimits {
  maxNameLength: number
  maxValueLength: number
  minTtlMs: number
  maxTtlMs: number
  maxExpireItems: number
  maxRenewItems: number
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const isId = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0

/** What is wrong with a command that came through the log, or null. Never throws. */
export function commandProblem(cmd: unknown, limits: InputLimits): string | null {
  if (!isObject(cmd)) return 'command is not an object'
  switch (cmd.op) {
    case 'acquire': {
      const p = refProblem(cmd, limits)
      if (p) return p
      if (cmd.mode !== 'exclusive' && cmd.mode !== 'shared') return `mode must be 'exclusive' or 'shared'`
      if (typeof cmd.ttlMs !== 'number' || !(cmd.ttlMs >= limits.minTtlMs && cmd.ttlMs <= limits.maxTtlMs)) {
        return `ttlMs must be in [${limits.minTtlMs}, ${limits.maxTtlMs}]`
      }
      if (typeof cmd.wait !== 'boolean') return 'wait must be a boolean'
      if (cmd.inbox !== null && typeof cmd.inbox !== 'string') return 'inbox must be a string or null'
      if (cmd.value !== null && (typeof cmd.value !== 'string' || cmd.value.length > limits.maxValueLength)) {
        return `value must be null or a string of at most ${limits.maxValueLength} characters`
      }
      if (!isId(cmd.settledBelow) || cmd.settledBelow > (cmd.requestId as number)) return 'settledBelow must be an id <= requestId'
      return null
    }
    case 'keepAlive':
    case 'release':
      return refProblem(cmd, limits)
    case 'renew':
      // Items are checked one by one (a bad one is answered `invalid`); the count limit is the table's.
      if (!isClientId(cmd.clientId)) return 'clientId must be a non-empty string'
      if (!Array.isArray(cmd.items)) return 'items must be an array'
      return null
    case 'expire': {
      if (!isId(cmd.term)) return 'term must be a non-negative safe integer'
      if (!Array.isArray(cmd.items) || cmd.items.length > limits.maxExpireItems) return `items must be an array of at most ${limits.maxExpireItems}`
      for (const item of cmd.items) {
        const p = refProblem(item, limits)
        if (p) return p
        if (!isId((item as { renewedIndex?: unknown }).renewedIndex)) return 'renewedIndex must be a non-negative safe integer'
      }
      return null
    }
    default:
      return `unknown op ${JSON.stringify(String(cmd.op)).slice(0, 40)}`
  }
}

function refProblem(x: unknown, limits: InputLimits): string | null {
  if (!isObject(x)) return 'item is not an object'
  if (!isClientId(x.clientId)) return 'clientId must be a non-empty string'
  return renewItemProblem(x, limits)
}

/** What is wrong with one item of a `renew` command (name and requestId), or null. Never throws. */
export function renewItemProblem(x: unknown, limits: InputLimits): string | null {
  if (!isObject(x)) return 'item is not an object'
  if (typeof x.name !== 'string' || x.name.length === 0 || x.name.length > limits.maxNameLength) {
    return `name must be a non-empty string of at most ${limits.maxNameLength} characters`
  }
  if (!isId(x.requestId)) return 'requestId must be a non-negative safe integer'
  return null
}

function isClientId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= 200
}
