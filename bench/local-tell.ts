// One-way throughput between two actors, against eventemitter3 emit with the
// payload kept, in the same run. Every message really passes through the
// receiver's mailbox and handler.
import { EventEmitter } from 'eventemitter3'
import { ActorSystem, defineActor } from '@troupe/runtime'
import type { ActorContext, ActorRef } from '@troupe/runtime'
import { medianOf, nowMs } from './lib.js'
import type { Figure } from './lib.js'

const ID = '7f3e2a1c-4b5d-4e6f-8a9b-0c1d2e3f4a5b'
const mkMsg = () => ({ to: 'actor/xyz', from: 'actor/abc', type: 'Deposit', body: { amount: 10, id: ID } })
type Msg = ReturnType<typeof mkMsg>
const N = 5_000_000
/** The receiver grants a new chunk of credit every CHUNK messages: flow control, as a real stream would. */
const CHUNK = 1_000
const CREDIT_CHUNKS = 4

type Receiver = { deposit(m: Msg): void }
type Sender = { start(to: ActorRef<Receiver>): void; more(): void }

async function actorsOnce(): Promise<number> {
  const system = new ActorSystem()
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const ring: Msg[] = new Array(1024)
  const ReceiverDef = defineActor({
    initial: () => ({ n: 0 }),
    handlers: {
      deposit(state, m: Msg, ctx) {
        ring[state.n & 1023] = m
        if (++state.n === N) done()
        else if (state.n % CHUNK === 0 && ctx.sender) ctx.tell(ctx.sender as ActorRef<Sender>, 'more', undefined)
      },
    },
  })
  const SenderDef = defineActor({
    initial: () => ({ sent: 0, to: null as ActorRef<Receiver> | null }),
    handlers: {
      start(state, to: ActorRef<Receiver>, ctx) {
        state.to = to
        for (let c = 0; c < CREDIT_CHUNKS; c++) sendChunk(state, ctx)
      },
      more(state, _: void, ctx) {
        sendChunk(state, ctx)
      },
    },
  })
  function sendChunk(state: { sent: number; to: ActorRef<Receiver> | null }, ctx: ActorContext<any>): void {
    const end = Math.min(N, state.sent + CHUNK)
    for (let i = state.sent; i < end; i++) ctx.tell(state.to!, 'deposit', mkMsg())
    state.sent = end
  }
  const receiver = system.spawn(ReceiverDef)
  const sender = system.spawn(SenderDef)
  const t0 = nowMs()
  sender.tell('start', receiver as ActorRef<Receiver>)
  await finished
  const rate = N / ((nowMs() - t0) / 1000)
  await system.terminate()
  return rate
}

function ee3Once(): number {
  const ee = new EventEmitter()
  const ring: Msg[] = new Array(1024)
  let k = 0
  ee.on('msg', (m: Msg) => {
    ring[k++ & 1023] = m
  })
  const t0 = nowMs()
  for (let i = 0; i < N; i++) ee.emit('msg', mkMsg())
  return N / ((nowMs() - t0) / 1000)
}

export async function run(): Promise<Figure[]> {
  const baseline = await medianOf(ee3Once)
  const value = await medianOf(actorsOnce)
  return [{ bench: 'local-tell', metric: 'throughput', value, unit: 'msg/s', kind: 'rate', baseline: 'eventemitter3 emit, payload kept', baselineValue: baseline }]
}
