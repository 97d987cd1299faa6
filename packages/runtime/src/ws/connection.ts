import type { KeyObject } from 'node:crypto'
import type { WebSocket } from 'ws'
import type { Clock, TimerHandle } from '../clock.js'
import { CloseCode, clampReason, closeCodeName } from './close-codes.js'
import { FrameType, encodeFrame, isFrameType } from './frames.js'
import {
  HANDSHAKE_MAX_BYTES,
  HandshakeError,
  clientProof,
  decodeChallenge,
  decodeHello,
  decodeProof,
  encodeAccept,
  encodeChallenge,
  encodeHello,
  encodeProof,
  proofMatches,
  serverProof,
} from './handshake.js'
import type { Hello, Identity, ServerSide } from './handshake.js'
import { formatRange, negotiateVersion } from '../wire-version.js'
import type { VersionRange } from '../wire-version.js'
import type { TransportLog } from './log.js'
import { setReceiveLimit } from './payload-limit.js'

export type Role = 'outbound' | 'inbound'

/** What a connection needs from its transport. */
export interface ConnectionHost {
  readonly self: Identity
  /** The wire versions this node speaks. */
  readonly versions: VersionRange
  readonly key: KeyObject
  readonly clock: Clock
  readonly log: TransportLog
  readonly maxPayloadBytes: number
  readonly handshakeTimeoutMs: number
  /** How long a closing socket may take to say goodbye before it is destroyed. */
  readonly closeGraceMs: number
  nonce(): Uint8Array
  /** Server side, once the client proved the secret: null admits it, else why not. */
  admit(conn: Connection): { code: CloseCode; reason: string } | null
  established(conn: Connection): void
  data(conn: Connection, body: Uint8Array): void
  /** Called once, as soon as the connection is closed by either side. */
  closed(conn: Connection): void
}

/** What the handshake waits for next. */
type Step = 'open' | 'hello' | 'challenge' | 'proof' | 'accept' | 'done'

const frameName = (t: number) => Object.entries(FrameType).find(([, v]) => v === t)?.[0] ?? `0x${t.toString(16)}`

/**
 * One WebSocket to one peer, through the handshake to 'open' and then
 * carrying data frames. Anything out of protocol closes it with a close code
 * and a logged reason; it never throws into the socket's event handlers.
 */
export class Connection {
  state: 'handshaking' | 'open' | 'closed' = 'handshaking'
  /** The peer, once it said who it is (authenticated only when state is 'open'). */
  peer: Identity | null = null
  lastHeardMs: number
  /** Why it closed (ours or the peer's code), once closed. */
  closeCode: number | null = null
  closeReason = ''
  /** Who closed it: this node ('self') or the peer or the network ('peer'); null while not closed. */
  closedBy: 'self' | 'peer' | null = null
  /** True once the handshake completed (it stays true after close). */
  opened = false
  /** The wire version both sides speak on this connection, once agreed. */
  version: number | null = null
  /** The range the peer said it speaks (null until it said, or for a peer too old to say). */
  peerVersions: VersionRange | null = null
  private step: Step
  private hello: Hello | null = null
  private server: ServerSide | null = null
  private nonce: Uint8Array | null = null
  private timer: TimerHandle | null
  private graceTimer: TimerHandle | null = null
  private lastError: string | null = null
  private socketClosed!: () => void
  /** Resolves when the socket is gone (not merely when `state` became 'closed'). */
  readonly whenSocketClosed = new Promise<void>((resolve) => (this.socketClosed = resolve))

  constructor(
    private readonly host: ConnectionHost,
    readonly ws: WebSocket,
    readonly role: Role,
    /** `host:port` or the dialed URL, for logs. */
    readonly remote: string,
    /** Outbound: the node this address was dialed for. */
    readonly expected: string | null,
  ) {
    this.lastHeardMs = host.clock.now()
    this.step = role === 'outbound' ? 'open' : 'hello'
    this.timer = host.clock.setTimer(host.handshakeTimeoutMs, () => {
      this.timer = null
      this.close(CloseCode.HandshakeTimeout, `no handshake within ${host.handshakeTimeoutMs} ms`)
    })
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary))
    ws.on('pong', () => (this.lastHeardMs = this.host.clock.now()))
    ws.on('ping', () => (this.lastHeardMs = this.host.clock.now()))
    ws.on('close', (code, reason) => this.onSocketClose(code, reason.toString()))
    // Must always be handled: ws emits 'error' before 'close' for socket and protocol errors.
    ws.on('error', (err) => this.onSocketError(err))
    if (role === 'outbound') ws.on('open', () => this.sendHello())
    else setReceiveLimit(ws, HANDSHAKE_MAX_BYTES + 1)
  }

  get name(): string | undefined {
    return this.peer?.name ?? this.expected ?? undefined
  }

  /** Bytes accepted by `send` but not yet written to the kernel. */
  get bufferedBytes(): number {
    return this.ws.bufferedAmount
  }

  sendData(frame: Uint8Array): void {
    this.ws.send(encodeFrame(FrameType.Data, frame))
  }

  ping(): void {
    if (this.state === 'open') this.ws.ping()
  }

  /** Closes with a code and a reason the peer sees and the log records. */
  close(code: CloseCode, reason: string, level: 'debug' | 'info' | 'warn' = 'warn'): void {
    if (this.state === 'closed') return
    this.markClosed(code, reason, 'self')
    this.host.log({ level, event: 'connection-closed', node: this.name, remote: this.remote, code, reason })
    if (this.ws.readyState === this.ws.CONNECTING) this.ws.terminate()
    else this.ws.close(code, clampReason(reason))
    // A peer that never answers the close frame is cut off.
    this.graceTimer = this.host.clock.setTimer(this.host.closeGraceMs, () => {
      this.graceTimer = null
      this.ws.terminate()
    })
    this.host.closed(this)
  }

  /** Destroys the socket at once (keep-alive timeout: the peer is not there to say goodbye to). */
  terminate(code: CloseCode, reason: string): void {
    if (this.state === 'closed') return
    this.markClosed(code, reason, 'self')
    this.host.log({ level: 'warn', event: 'connection-closed', node: this.name, remote: this.remote, code, reason })
    this.ws.terminate()
    this.host.closed(this)
  }

  private markClosed(code: number, reason: string, by: 'self' | 'peer'): void {
    this.state = 'closed'
    this.closedBy = by
    this.closeCode = code
    this.closeReason = reason
    if (this.timer !== null) this.host.clock.clearTimer(this.timer)
    this.timer = null
  }

  private onSocketClose(code: number, reason: string): void {
    if (this.graceTimer !== null) this.host.clock.clearTimer(this.graceTimer)
    this.graceTimer = null
    this.socketClosed()
    if (this.state === 'closed') return
    const why = reason || this.lastError || closeCodeName(code)
    this.markClosed(code, why, 'peer')
    if (this.step === 'open') {
      // Never connected: a refused or timed-out dial, retried with backoff.
      this.host.log({ level: 'info', event: 'dial-failed', node: this.name, remote: this.remote, code, reason: why })
    } else {
      const expected = code === 1000 || code === CloseCode.Shutdown || code === CloseCode.Duplicate || code === CloseCode.Replaced
      this.host.log({ level: expected ? 'info' : 'warn', event: 'connection-lost', node: this.name, remote: this.remote, code, reason: why })
    }
    this.host.closed(this)
  }

  private onSocketError(err: Error): void {
    // ws follows every 'error' with 'close'. A protocol error ws found in what the
    // peer sent (a message over the limit, a bad opcode) means ws itself closed the
    // connection with its code and stopped reading, so the peer's close frame never
    // arrives and 'close' would report 1006: log it here, as closed by this node.
    const code = wsProtocolErrorCode(err)
    if (code !== null && this.state !== 'closed') {
      this.markClosed(code, err.message, 'self')
      this.host.log({ level: 'warn', event: 'connection-closed', node: this.name, remote: this.remote, code, reason: `${closeCodeName(code)}: ${err.message}` })
      this.host.closed(this)
      return
    }
    // Otherwise the reason is logged at 'close', once.
    this.lastError = err.message
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return
    this.lastHeardMs = this.host.clock.now()
    if (!isBinary || data.length === 0) return this.close(CloseCode.UnknownFrameType, isBinary ? 'empty message' : 'text message')
    const type = data[0]
    const body = data.subarray(1)
    if (type === FrameType.Data) {
      if (this.state !== 'open') return this.close(CloseCode.FrameBeforeHandshake, 'data frame before the handshake completed')
      return this.host.data(this, body)
    }
    if (!isFrameType(type)) return this.close(CloseCode.UnknownFrameType, `unknown frame type 0x${type.toString(16)}`)
    try {
      this.handshake(type, body)
    } catch (err) {
      if (!(err instanceof HandshakeError)) throw err
      this.close(err.closeCode, err.message)
    }
  }

  private handshake(type: FrameType, body: Uint8Array): void {
    const wanted = { hello: FrameType.Hello, challenge: FrameType.Challenge, proof: FrameType.Proof, accept: FrameType.Accept }[this.step as 'hello']
    if (type !== wanted) throw new HandshakeError(CloseCode.ProtocolError, `unexpected ${frameName(type)} frame (${this.step === 'done' ? 'handshake already done' : `waiting for ${this.step}`})`)
    switch (this.step) {
      case 'hello':
        return this.onHello(decodeHello(body))
      case 'challenge':
        return this.onChallenge(body)
      case 'proof':
        return this.onProof(decodeProof(body))
      case 'accept':
        return this.onAccept()
    }
  }

  // ---- server side -------------------------------------------------------

  private onHello(hello: Hello): void {
    const self = this.host.self
    if (hello.target !== self.name) throw new HandshakeError(CloseCode.WrongPeer, `dialed node '${hello.target}' but this is '${self.name}'`)
    if (hello.name === self.name) throw new HandshakeError(CloseCode.WrongPeer, `peer claims this node's own name '${self.name}'`)
    this.hello = hello
    this.peer = { name: hello.name, incarnation: hello.incarnation }
    this.peerVersions = hello.versions
    this.nonce = this.host.nonce()
    // Without a common version the Challenge still goes out (version 0): it tells the
    // client this node's range, under a proof, so both sides can say why they refused.
    const version = negotiateVersion(this.host.versions, hello.versions) ?? 0
    const mine: ServerSide = { ...self, nonce: this.nonce, versions: this.host.versions, version }
    this.server = mine
    this.step = 'proof'
    this.ws.send(encodeChallenge({ ...mine, proof: serverProof(this.host.key, hello, mine) }))
    if (version === 0) throw this.mismatch(hello.name, hello.versions)
    this.version = version
  }

  private onProof(proof: Uint8Array): void {
    const expected = clientProof(this.host.key, this.hello!, this.server!)
    if (!proofMatches(expected, proof)) throw new HandshakeError(CloseCode.AuthFailed, 'client proof does not match (wrong cluster secret?)')
    const refusal = this.host.admit(this)
    if (refusal !== null) return this.close(refusal.code, refusal.reason, 'info')
    this.ws.send(encodeAccept())
    this.becomeOpen()
  }

  // ---- client side -------------------------------------------------------

  private sendHello(): void {
    if (this.state === 'closed') return
    setReceiveLimit(this.ws, HANDSHAKE_MAX_BYTES + 1)
    this.nonce = this.host.nonce()
    this.hello = { ...this.host.self, nonce: this.nonce, target: this.expected!, versions: this.host.versions }
    this.step = 'challenge'
    this.ws.send(encodeHello(this.hello))
  }

  private onChallenge(body: Uint8Array): void {
    const challenge = decodeChallenge(body)
    if (challenge.name !== this.expected) throw new HandshakeError(CloseCode.WrongPeer, `dialed node '${this.expected}' but reached '${challenge.name}'`)
    const expected = serverProof(this.host.key, this.hello!, challenge)
    if (!proofMatches(expected, challenge.proof)) throw new HandshakeError(CloseCode.AuthFailed, 'server proof does not match (wrong cluster secret?)')
    this.peerVersions = challenge.versions
    const version = negotiateVersion(this.host.versions, challenge.versions)
    if (version === null) throw this.mismatch(challenge.name, challenge.versions)
    if (challenge.version !== version) throw new HandshakeError(CloseCode.ProtocolError, `server chose protocol version ${challenge.version}, but the ranges give ${version}`)
    this.version = version
    this.peer = { name: challenge.name, incarnation: challenge.incarnation }
    this.step = 'accept'
    this.ws.send(encodeProof(clientProof(this.host.key, this.hello!, challenge)))
  }

  private mismatch(peer: string, theirs: VersionRange): HandshakeError {
    return new HandshakeError(CloseCode.BadVersion, `no common protocol version: this node speaks ${formatRange(this.host.versions)}, '${peer}' speaks ${formatRange(theirs)}`)
  }

  private onAccept(): void {
    this.becomeOpen()
  }

  private becomeOpen(): void {
    this.step = 'done'
    this.state = 'open'
    this.opened = true
    if (this.timer !== null) this.host.clock.clearTimer(this.timer)
    this.timer = null
    setReceiveLimit(this.ws, this.host.maxPayloadBytes)
    this.host.established(this)
  }
}

/**
 * The close code ws sends when it rejects what the peer sent (its receiver's
 * `WS_ERR_*` errors), or null for other errors (socket errors, a failed dial).
 */
export function wsProtocolErrorCode(err: Error): number | null {
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return null
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return CloseCode.MessageTooBig
  if (code === 'WS_ERR_INVALID_UTF8') return 1007
  return 1002
}
