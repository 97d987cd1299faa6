import type { IncomingMessage, ServerResponse } from 'node:http'
import { realClock } from '@troupe/runtime'
import type { Clock } from '@troupe/runtime'
import { answerMac, DEFAULT_MAX_SKEW_MS, HEADER_MAC, HEADER_NONCE, refuseReason } from './bootstrap-auth.js'
import type { LogFn } from './bootstrap-driver.js'
import { DiscoveryError } from './discovery-error.js'
import type { ProbeAnswer } from './probe-answer.js'

export interface BootstrapRouteInput {
  /** The cluster secret; probes must carry its HMAC. */
  readonly secret: string
  /** This node now: name, transport address, and the cluster's members (empty until in one). */
  state(): ProbeAnswer
  /** For the freshness check of a probe's time (default: the real clock). */
  readonly clock?: Pick<Clock, 'now'>
  /** Largest accepted difference between the caller's time and ours (default 5 min). */
  readonly maxSkewMs?: number
  readonly log?: LogFn
}

/**
 * The handler of `GET /bootstrap` (mounted by the node's HTTP listener):
 * answers a probe that proves it holds the cluster secret with this node's
 * ProbeAnswer as JSON, itself signed with the secret; anything else gets
 * 401 (or 405 for another method) and no information.
 */
export function bootstrapRoute(input: BootstrapRouteInput): (req: IncomingMessage, res: ServerResponse) => void {
  if (typeof input.secret !== 'string' || input.secret.length === 0) {
    throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', 'config', 'the bootstrap route needs a non-empty cluster secret')
  }
  const clock = input.clock ?? realClock
  const maxSkewMs = input.maxSkewMs ?? DEFAULT_MAX_SKEW_MS
  return (req, res) => {
    if (req.method !== 'GET') return send(res, 405, 'method not allowed\n', { allow: 'GET' })
    const why = refuseReason(input.secret, req.headers, clock.now(), maxSkewMs)
    if (why !== null) {
      input.log?.('debug', 'bootstrap probe refused', { reason: why, from: req.socket.remoteAddress })
      return send(res, 401, 'unauthorized\n')
    }
    const nonce = req.headers[HEADER_NONCE] as string
    let body: string
    try {
      const s = input.state()
      body = JSON.stringify({ node: s.node, address: s.address, members: s.members.map((m) => ({ node: m.node, address: m.address })) })
    } catch (err) {
      input.log?.('error', 'bootstrap state failed', { error: String(err) })
      return send(res, 503, 'unavailable\n')
    }
    send(res, 200, body, { 'content-type': 'application/json', [HEADER_MAC]: answerMac(input.secret, nonce, body) })
  }
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body), 'content-type': 'text/plain', ...headers })
  res.end(body)
}
