// Shared by remote-tell and remote-ask: the peer child process and the raw ws client baseline.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { decodeMultiple } from 'cbor-x'
import { WebSocket } from 'ws'
import type { ActorRef } from '@troupe/runtime'

export const BENCH_SECRET = 'bench-cluster-secret-0123456789'
export const ID = '7f3e2a1c-4b5d-4e6f-8a9b-0c1d2e3f4a5b'

export type Deposit = { amount: number; id: string }
export type SinkP = { expect(p: { n: number; chunk: number; sender: ActorRef<SenderP> }): void; deposit(m: Deposit): void }
export type SenderP = { more(): void; done(): void }
export type EchoP = { echo(x: number): number }

export interface Peer {
  port: number
  url: string
  stop(): void
}

const root = fileURLToPath(new URL('..', import.meta.url))

/** Starts bench/remote-peer.ts in its own Node process ('troupe' node or 'raw' ws server). */
export async function spawnPeer(mode: 'troupe' | 'raw'): Promise<Peer> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/remote-peer.ts', mode], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const line = out.split('\n')[0]
      if (out.includes('\n')) resolve((JSON.parse(line) as { port: number }).port)
    })
    child.once('exit', (code) => reject(new Error(`peer (${mode}) exited with ${code}`)))
  })
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    stop: () => {
      child.stdin.end()
      if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
    },
  }
}

/** A raw ws client to the 'raw' peer: the baseline stack (ws + cbor-x, CBOR sequences). */
export class RawLink {
  onMessage: (m: any) => void = () => {}

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => decodeMultiple(data as Buffer, (m: unknown) => this.onMessage(m)))
  }

  static async open(url: string): Promise<RawLink> {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return new RawLink(ws)
  }

  /** Resolves once ws handed the frame to the socket. */
  sendAwait(frame: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.ws.send(frame, () => resolve()))
  }

  close(): void {
    this.ws.close()
  }
}
