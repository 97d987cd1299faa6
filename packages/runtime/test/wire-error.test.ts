import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem, CodedError, MemoryNetwork, RemoteError, TroupeError, defineActor, errorCode, isRetryable } from '@troupe/runtime'
import { fromWireError, toWireError } from '../src/remote/wire-error.js'

class ShelfError extends CodedError<'OUT_OF_STOCK'> {
  override readonly name = 'ShelfError'
}

test('a runtime code comes back as a TroupeError', () => {
  const err = fromWireError(toWireError(new TroupeError('ASK_TIMEOUT', 'too slow')))
  assert.ok(err instanceof TroupeError)
  assert.is((err as TroupeError).code, 'ASK_TIMEOUT')
  assert.is(err.message, 'too slow')
  assert.ok(isRetryable(err))
})

test('a foreign code comes back as a RemoteError with its code, message and class name', () => {
  const err = fromWireError(toWireError(new ShelfError('OUT_OF_STOCK', 'no apples')))
  assert.ok(err instanceof RemoteError)
  assert.not.ok(err instanceof TroupeError)
  assert.is(errorCode(err), 'OUT_OF_STOCK')
  assert.is(err.message, 'no apples')
  assert.is((err as RemoteError).remoteName, 'ShelfError')
  assert.not.ok(isRetryable(err))
  // Relayed again, it keeps the class name it had where it was raised.
  assert.equal(toWireError(err), { name: 'ShelfError', message: 'no apples', code: 'OUT_OF_STOCK' })
})

test('an error without a code stays a plain Error with its name', () => {
  const err = fromWireError(toWireError(new RangeError('bad')))
  assert.is(err.constructor, Error)
  assert.is(err.name, 'RangeError')
  assert.is(err.message, 'bad')
  assert.is(fromWireError('just text').message, 'just text')
})

test('a remote handler rejecting with a foreign code: the asker sees that code', async () => {
  const net = new MemoryNetwork()
  const a = new ActorSystem({ name: 'a', transport: net.transport() })
  const b = new ActorSystem({ name: 'b', transport: net.transport() })
  await a.start()
  await b.start()
  const Shelf = defineActor({
    name: 'shelf',
    initial: () => null,
    handlers: {
      take(_s, _: void, ctx) {
        ctx.deferReply().reject(new ShelfError('OUT_OF_STOCK', 'no apples'))
      },
    },
  })
  b.spawn(Shelf, { name: 'shelf' })
  const err = await a.remoteRef<{ take(): void }>('b', '/user/shelf').ask('take').catch((e: unknown) => e)
  assert.ok(err instanceof RemoteError)
  assert.is(errorCode(err), 'OUT_OF_STOCK')
  assert.is((err as RemoteError).remoteName, 'ShelfError')
  await a.terminate()
  await b.terminate()
})

test.run()
