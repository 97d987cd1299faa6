// How a bootstrap probe and its answer prove they come from holders of the
// cluster secret: HMAC-SHA256 over a fresh nonce and the caller's time (the
// request), and over the same nonce and the body (the answer).
import { createHmac, timingSafeEqual } from 'node:crypto'

export const BOOTSTRAP_PATH = '/bootstrap'
export const HEADER_TIME = 'x-troupe-time'
export const HEADER_NONCE = 'x-troupe-nonce'
export const HEADER_MAC = 'x-troupe-mac'

/** Default tolerance between the caller's and the answerer's clocks. */
export const DEFAULT_MAX_SKEW_MS = 5 * 60_000
const NONCE = /^[0-9a-f]{32,128}$/
const MAC = /^[0-9a-f]{64}$/

export function requestMac(secret: string, timeMs: number, nonce: string): string {
  return mac(secret, `troupe-bootstrap-probe\n${timeMs}\n${nonce}`)
}

export function answerMac(secret: string, nonce: string, body: string): string {
  return mac(secret, `troupe-bootstrap-answer\n${nonce}\n${body}`)
}

/** Whether `given` (hex from the wire) is the expected MAC; constant time in the MAC's content. */
export function macMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || !MAC.test(given)) return false
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given, 'hex'))
}

/** Checks a probe's headers: why it is refused, or null when it is authentic and timely. */
export function refuseReason(secret: string, headers: Record<string, string | string[] | undefined>, nowMs: number, maxSkewMs: number): string | null {
  const time = headers[HEADER_TIME]
  const nonce = headers[HEADER_NONCE]
  if (typeof time !== 'string' || !/^\d{1,16}$/.test(time)) return 'missing or malformed time'
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) return 'missing or malformed nonce'
  if (!macMatches(requestMac(secret, Number(time), nonce), headers[HEADER_MAC])) return 'bad mac'
  if (Math.abs(nowMs - Number(time)) > maxSkewMs) return 'time outside the allowed skew'
  return null
}

function mac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex')
}
