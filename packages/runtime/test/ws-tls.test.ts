import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineActor, isTroupeError } from '@troupe/runtime'
import { WebSocketTransport } from '../src/ws/index.js'
import { RawClient, SECRET, eventually, link, startNode } from './ws-helpers.js'

const test = suite('ws tls')

/** A self-signed certificate for 127.0.0.1, or null when openssl is not installed. */
function selfSigned(): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'troupe-tls-'))
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=troupe-test',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' })
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } catch {
    return null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const pem = selfSigned()
if (pem === null) console.log('    note: openssl not available; the wss:// tests are skipped')

const Echo = defineActor({ initial: () => null, handlers: { echo: (_s, x: string) => x } })

test('wss://: two nodes with a self-signed certificate exchange asks', async () => {
  if (pem === null) return
  const tls = { ...pem, ca: pem.cert }
  const a = await startNode('a', { tls })
  const b = await startNode('b', { tls })
  link(a, b)
  try {
    assert.match(a.url, /^wss:\/\//)
    b.system.spawn(Echo, { name: 'e' })
    assert.is(await a.system.remoteRef<{ echo(x: string): string }>('b', '/user/e').ask('echo', 'over tls'), 'over tls')
    // A client that does not trust the certificate never gets to the handshake.
    const untrusting = await RawClient.connect(b.url).then(() => 'connected', (e: Error) => e.message)
    assert.match(untrusting, /self.signed|certificate/i)
    // A plain ws:// client is not spoken to either.
    const plain = await RawClient.connect(b.url.replace('wss://', 'ws://')).then(() => 'connected', () => 'refused')
    assert.is(plain, 'refused')
    await eventually(() => b.transport.stats().handshaking === 0, 'no stray sockets')
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})

test('with tls configured, a ws:// peer address is refused (no silent downgrade)', () => {
  if (pem === null) return
  assert.throws(
    () => new WebSocketTransport({ listen: null, secret: SECRET, tls: pem, peers: { b: 'ws://127.0.0.1:9' } }),
    (e: unknown) => isTroupeError(e, 'INVALID_ARGUMENT'),
  )
})

test.run()
