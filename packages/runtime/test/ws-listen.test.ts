import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, TroupeError } from '@troupe/runtime'
import { WebSocketTransport } from '../src/ws/index.js'
import { listenError } from '../src/ws/listener.js'
import { SECRET } from './ws-helpers.js'

test('a transport that starts on a port another socket holds rejects with ADDRESS_IN_USE naming host:port', async () => {
  const holder = createServer()
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r))
  const port = (holder.address() as AddressInfo).port
  try {
    const transport = new WebSocketTransport({ listen: { host: '127.0.0.1', port }, secret: SECRET, log: () => {} })
    const system = new ActorSystem({ name: 'a', transport })
    const err = await system.start().then(
      () => null,
      (e: unknown) => e,
    )
    assert.ok(err instanceof TroupeError, `a TroupeError, got ${String(err)}`)
    assert.is((err as TroupeError).code, 'ADDRESS_IN_USE')
    assert.ok((err as TroupeError).message.startsWith(`127.0.0.1:${port} is in use`), (err as Error).message)
    assert.is(((err as Error).cause as NodeJS.ErrnoException).code, 'EADDRINUSE')
    assert.is((err as TroupeError).retryable, false)
    await system.terminate()
  } finally {
    await new Promise((r) => holder.close(r))
  }
})

test('bind errors map to codes; an IPv6 host is bracketed; other errors pass through', () => {
  const errno = (code: string) => Object.assign(new Error(code), { code })
  const inUse = listenError(errno('EADDRINUSE'), '::1', 7000) as TroupeError
  assert.is(inUse.code, 'ADDRESS_IN_USE')
  assert.ok(inUse.message.startsWith('[::1]:7000 is in use'))
  assert.is((listenError(errno('EACCES'), '0.0.0.0', 80) as TroupeError).code, 'INVALID_ARGUMENT')
  assert.is((listenError(errno('EADDRNOTAVAIL'), '10.9.9.9', 7000) as TroupeError).code, 'INVALID_ARGUMENT')
  const other = errno('EMFILE')
  assert.is(listenError(other, '127.0.0.1', 1), other)
})

test.run()
