import type { Clock, TimerHandle } from '../clock.js'
import { CloseCode } from './close-codes.js'
import type { Connection } from './connection.js'

/**
 * Finds dead links that TCP would not report for minutes (a peer that lost
 * power, a dropped NAT entry): one timer pings every open connection each
 * intervalMs, and a connection that has been silent for timeoutMs (no data,
 * ping or pong) is destroyed. Cluster failure detection is a separate,
 * higher layer; this only keeps the transport from trusting a dead socket.
 */
export class KeepAlive {
  private timer: TimerHandle | null = null

  constructor(
    private readonly clock: Clock,
    private readonly settings: { intervalMs: number; timeoutMs: number },
    private readonly connections: () => Iterable<Connection>,
  ) {}

  start(): void {
    if (this.timer === null) this.timer = this.clock.setTimer(this.settings.intervalMs, () => this.tick())
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer)
    this.timer = null
  }

  private tick(): void {
    const now = this.clock.now()
    for (const conn of [...this.connections()]) {
      if (conn.state !== 'open') continue
      if (now - conn.lastHeardMs > this.settings.timeoutMs) conn.terminate(CloseCode.KeepAliveTimeout, `nothing heard for ${Math.round(now - conn.lastHeardMs)} ms`)
      else conn.ping()
    }
    this.timer = this.clock.setTimer(this.settings.intervalMs, () => this.tick())
  }
}
