// The part of the `ws` (v8) API this package uses. `ws` ships no types and
// @types/ws is not a dependency; if it becomes one, delete this file.
declare module 'ws' {
  import { EventEmitter } from 'node:events'
  import type { IncomingMessage } from 'node:http'
  import type { Duplex } from 'node:stream'
  import type { SecureContextOptions } from 'node:tls'

  export type RawData = Buffer | ArrayBuffer | Buffer[]

  export interface ClientOptions extends SecureContextOptions {
    perMessageDeflate?: boolean
    maxPayload?: number
    followRedirects?: boolean
    handshakeTimeout?: number
    rejectUnauthorized?: boolean
    autoPong?: boolean
    /** Local interface address to bind outgoing connections to (http.RequestOptions). */
    localAddress?: string
  }

  export interface ServerOptions {
    host?: string
    port?: number
    noServer?: boolean
    clientTracking?: boolean
    perMessageDeflate?: boolean
    maxPayload?: number
  }

  export class WebSocket extends EventEmitter {
    static readonly CONNECTING: 0
    static readonly OPEN: 1
    static readonly CLOSING: 2
    static readonly CLOSED: 3
    readonly CONNECTING: 0
    readonly OPEN: 1
    readonly CLOSING: 2
    readonly CLOSED: 3
    readonly readyState: 0 | 1 | 2 | 3
    readonly bufferedAmount: number
    constructor(url: string | URL, options?: ClientOptions)
    send(data: Uint8Array | string, cb?: (err?: Error) => void): void
    send(data: Uint8Array | string, options: { binary?: boolean; fin?: boolean; compress?: boolean; mask?: boolean }, cb?: (err?: Error) => void): void
    ping(data?: Uint8Array, mask?: boolean, cb?: (err: Error) => void): void
    close(code?: number, reason?: string | Buffer): void
    terminate(): void
    on(event: 'message', listener: (data: RawData, isBinary: boolean) => void): this
    on(event: 'close', listener: (code: number, reason: Buffer) => void): this
    on(event: 'error', listener: (err: Error) => void): this
    on(event: 'open' | 'ping' | 'pong', listener: () => void): this
    on(event: string, listener: (...args: any[]) => void): this
    once(event: 'close', listener: (code: number, reason: Buffer) => void): this
    once(event: 'error', listener: (err: Error) => void): this
    once(event: 'open', listener: () => void): this
    once(event: string, listener: (...args: any[]) => void): this
  }

  export class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions, callback?: () => void)
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, callback: (ws: WebSocket, req: IncomingMessage) => void): void
    close(cb?: (err?: Error) => void): void
    address(): import('node:net').AddressInfo | string
    on(event: 'connection', listener: (ws: WebSocket, req: IncomingMessage) => void): this
    on(event: string, listener: (...args: any[]) => void): this
  }

  export default WebSocket
}
