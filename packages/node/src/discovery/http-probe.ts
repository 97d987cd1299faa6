import { randomBytes } from 'node:crypto'
import { request } from 'node:http'
import type { Clock } from '@troupe/runtime'
import { answerMac, BOOTSTRAP_PATH, HEADER_MAC, HEADER_NONCE, HEADER_TIME, macMatches, requestMac } from './bootstrap-auth.js'
import type { ProbeFn } from './bootstrap-driver.js'
import { contactKey } from './contact.js'
import { DiscoveryError } from './discovery-error.js'
import { parseProbeAnswer } from './probe-answer.js'

/** Largest probe answer read (a thousand members fit many times). */
export const MAX_PROBE_BODY_BYTES = 1024 * 1024

/**
 * Probes a contact over HTTP: `GET /bootstrap` signed with the cluster
 * secret; the answer counts only if it is signed too (so a stranger at a
 * discovered address cannot steer this node into its cluster). Any failure
 * is a PROBE_FAILED.
 */
export function httpProbe(secret: string, clock: Pick<Clock, 'now'>): ProbeFn {
  return (contact, signal) =>
    new Promise((resolve, reject) => {
      const from = contactKey(contact)
      const fail = (msg: string, cause?: unknown) => reject(new DiscoveryError('PROBE_FAILED', 'probe', `${from}: ${msg}`, { cause }))
      const nonce = randomBytes(16).toString('hex')
      const time = Math.floor(clock.now())
      const req = request(
        {
          host: contact.host,
          port: contact.port,
          path: BOOTSTRAP_PATH,
          method: 'GET',
          signal,
          headers: { [HEADER_TIME]: String(time), [HEADER_NONCE]: nonce, [HEADER_MAC]: requestMac(secret, time, nonce) },
        },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size <= MAX_PROBE_BODY_BYTES) chunks.push(chunk)
            else {
              req.destroy()
              fail(`answer larger than ${MAX_PROBE_BODY_BYTES} bytes`)
            }
          })
          res.on('error', (err) => fail(err.message, err))
          res.on('end', () => {
            if (res.statusCode !== 200) return fail(`answered ${res.statusCode}${res.statusCode === 401 ? ' (a different cluster secret?)' : ''}`)
            const body = Buffer.concat(chunks).toString('utf8')
            if (!macMatches(answerMac(secret, nonce, body), res.headers[HEADER_MAC])) return fail('the answer is not signed with the cluster secret')
            try {
              resolve(parseProbeAnswer(JSON.parse(body), from))
            } catch (err) {
              fail(err instanceof DiscoveryError ? err.message : 'the answer is not JSON', err)
            }
          })
        },
      )
      req.on('error', (err) => fail(err.message, err))
      req.end()
    })
}
