/** One thing the transport wants an operator to know, e.g. why it closed a connection. */
export interface TransportLogEntry {
  level: 'debug' | 'info' | 'warn' | 'error'
  /** A stable kebab-case name: 'connection-closed', 'frame-dropped', 'dial-failed', ... */
  event: string
  /** The peer's node name, once known. */
  node?: string
  /** The remote socket address, `host:port`. */
  remote?: string
  /** The WebSocket close code (see CloseCode). */
  code?: number
  reason?: string
}

export type TransportLog = (entry: TransportLogEntry) => void

/** The default log: warnings and errors to stderr, one line each. */
export const consoleLog: TransportLog = (e) => {
  if (e.level !== 'warn' && e.level !== 'error') return
  // Names and reasons can come from the peer: quoted, so they cannot forge log lines.
  const who = [e.node && `node=${JSON.stringify(e.node)}`, e.remote && `remote=${e.remote}`, e.code !== undefined && `code=${e.code}`].filter(Boolean).join(' ')
  console.error(`[troupe ws] ${e.level} ${e.event} ${who}${e.reason ? ` reason=${JSON.stringify(e.reason)}` : ''}`)
}

/**
 * Logs the 1st, 2nd, 4th, 8th... occurrence of a repeated event, so a flood
 * (of dropped frames or refused sockets) cannot flood the log.
 */
export class LogThrottle {
  private count = 0

  /** True when this occurrence should be logged; `count` then says how many so far. */
  shouldLog(): boolean {
    this.count++
    return (this.count & (this.count - 1)) === 0
  }

  get total(): number {
    return this.count
  }
}
