import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'

/** Loopback addresses the attacker binds (Linux routes all of 127/8 to lo). */
export const ATTACKERS = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9']

export interface FloodOptions {
  port: number
  /** Most raw TCP connections opened in all (never upgraded, never a byte sent). */
  maxRaw: number
  /** Most WebSockets opened in all (upgraded, then silent). */
  maxSilent: number
  /** Opened per 10 ms tick, each kind. */
  rawPerTick: number
  silentPerTick: number
}

/**
 * An unauthenticated flood, bounded in count: opens raw and upgraded-silent
 * connections from the attacker addresses every 10 ms and holds each one
 * until the node drops it or `stop` is called.
 */
export class Flood {
  opened = { raw: 0, silent: 0 }
  /** Connections the node closed (evicted, timed out). */
  droppedByNode = 0
  private readonly held = new Set<Socket | WebSocket>()
  private timer: NodeJS.Timeout | null = null
  private next = 0

  constructor(private readonly o: FloodOptions) {}

  get exhausted(): boolean {
    return this.opened.raw >= this.o.maxRaw && this.opened.silent >= this.o.maxSilent
  }

  get holding(): number {
    return this.held.size
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), 10)
  }

  private address(): string {
    return ATTACKERS[this.next++ % ATTACKERS.length]
  }

  private tick(): void {
    for (let i = 0; i < this.o.rawPerTick && this.opened.raw < this.o.maxRaw; i++) {
      this.opened.raw++
      const s = connect({ host: '127.0.0.1', port: this.o.port, localAddress: this.address() })
      this.held.add(s)
      s.on('error', () => {})
      s.on('close', () => this.dropped(s))
    }
    for (let i = 0; i < this.o.silentPerTick && this.opened.silent < this.o.maxSilent; i++) {
      this.opened.silent++
      const ws = new WebSocket(`ws://127.0.0.1:${this.o.port}`, { localAddress: this.address(), perMessageDeflate: false })
      this.held.add(ws)
      ws.on('error', () => {})
      ws.on('close', () => this.dropped(ws))
    }
  }

  private dropped(s: Socket | WebSocket): void {
    if (this.held.delete(s) && this.timer !== null) this.droppedByNode++
  }

  /** Stops opening and closes everything still held; resolves when all are gone. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    const all = [...this.held]
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s instanceof WebSocket) {
              if (s.readyState === WebSocket.CLOSED) return resolve()
              s.once('close', () => resolve())
              s.terminate()
            } else {
              if (s.destroyed) return resolve()
              s.once('close', () => resolve())
              s.destroy()
            }
          }),
      ),
    )
    this.held.clear()
  }
}
