// One browser connection on this node: a local actor that owns the socket's
// sending side. It turns the page's (already parsed) frames into calls on
// room entities and the history group, subscribes to the topics of the rooms
// the page is in, and passes room events on to the page. Whatever goes
// wrong is answered with an error frame to this page only.
import { defineActor, isTroupeError } from '@troupe/runtime'
import type { ActorContext, ActorDef, ActorRef, PubSub, Published } from '@troupe/runtime'
import { MAX_LIMITED_USERS, MAX_ROOMS_PER_SESSION, POST_BURST, POSTS_PER_SECOND, PRESENCE_HEARTBEAT_MS, REQUEST_TIMEOUT_MS, SESSION_MAILBOX, TYPING_EVERY_MS } from './limits.js'
import { ChatErrorCode, roomTopic } from './protocol.js'
import type { ChatMessage, ClientFrame, RoomEvent, RoomSummary, ServerFrame } from './protocol.js'
import { historyRefusal } from './history.js'
import type { HistoryGroup, RoomProtocol } from './room.js'
import { KeyedLimiter } from './token-bucket.js'

/** The sending half of a browser's socket. */
export interface BrowserLink {
  send(frame: ServerFrame): void
  close(code: number, reason: string): void
  /** The page signed in: the gateway stops its sign-in deadline. */
  signedIn(): void
}

export interface SessionServices {
  room(name: string): ActorRef<RoomProtocol>
  history: HistoryGroup
  pubsub: PubSub
  /** Posts per user on this node (shared by all of this node's sessions). */
  postLimiter: KeyedLimiter
  /** TTL of the rooms this node creates (they expire this long after their last activity). */
  roomTtlMs: number
}

export function newPostLimiter(): KeyedLimiter {
  return new KeyedLimiter(POST_BURST, POSTS_PER_SECOND, MAX_LIMITED_USERS)
}

interface SessionState {
  key: string
  /** The client's address key (`addressKey` of @troupe/runtime): room creation is budgeted per address. */
  addr: string
  link: BrowserLink
  user: string | null
  rooms: Set<string>
  /** When this session last passed on a typing notice, per room. */
  typingMs: Map<string, number>
}

export function sessionActor(services: SessionServices) {
  return defineActor({
    name: 'session',
    initial: (): SessionState => ({ key: '', addr: '', link: { send() {}, close() {}, signedIn() {} }, user: null, rooms: new Set(), typingMs: new Map() }),
    onStart(_s, ctx) {
      ctx.timers.startPeriodic('heartbeat', PRESENCE_HEARTBEAT_MS, 'heartbeat', undefined)
    },
    onStop(s) {
      for (const room of s.rooms) services.room(room).tell('leave', s.key)
    },
    // A bug in a handler must not lose the page's rooms: keep the state.
    supervision: { onFailure: 'resume' },
    mailbox: { capacity: SESSION_MAILBOX, overflow: 'reject' },
    handlers: {
      attach(s, p: { key: string; addr: string; link: BrowserLink }) {
        s.key = p.key
        s.addr = p.addr
        s.link = p.link
      },
      async frame(s, f: ClientFrame, ctx) {
        try {
          await handleFrame(s, f, ctx, services)
        } catch (err) {
          s.link.send({ t: 'error', code: ChatErrorCode.Unavailable, message: `Could not handle ${f.t}: ${describe(err)}`, ...roomOf(f) })
        }
      },
      published(s, p: Published<RoomEvent>) {
        // A copy sent before a leave was handled may still arrive: drop it.
        if (s.rooms.has(p.message.room)) s.link.send(p.message)
      },
      heartbeat(s) {
        if (s.user === null) return
        for (const room of s.rooms) services.room(room).tell('here', { key: s.key, user: s.user })
      },
    },
  })
}

export type SessionDef = ReturnType<typeof sessionActor>
export type SessionProtocol = SessionDef extends ActorDef<infer P, any> ? P : never

async function handleFrame(s: SessionState, f: ClientFrame, ctx: ActorContext<any>, services: SessionServices): Promise<void> {
  if (f.t === 'hello') return hello(s, f.user)
  if (s.user === null) return s.link.send({ t: 'error', code: ChatErrorCode.NotLoggedIn, message: 'Say hello (pick a name) first.' })
  const user = s.user
  switch (f.t) {
    case 'rooms':
      return s.link.send({ t: 'rooms', rooms: (await services.history.read({ op: 'rooms' }, { timeoutMs: REQUEST_TIMEOUT_MS })) as RoomSummary[] })
    case 'join':
      return join(s, user, f.room, ctx, services)
    case 'leave':
      if (!s.rooms.delete(f.room)) return s.link.send({ t: 'left', room: f.room })
      services.room(f.room).tell('leave', s.key)
      await services.pubsub.unsubscribe(roomTopic(f.room), ctx.self)
      return s.link.send({ t: 'left', room: f.room })
    case 'typing': {
      if (!s.rooms.has(f.room)) return
      const now = ctx.system.clock.now()
      if (now - (s.typingMs.get(f.room) ?? -Infinity) < TYPING_EVERY_MS) return
      s.typingMs.set(f.room, now)
      const event: RoomEvent = { t: 'typing', room: f.room, user }
      return services.pubsub.publish(roomTopic(f.room), event)
    }
    case 'post':
      return post(s, user, f, ctx, services)
  }
}

function hello(s: SessionState, user: string): void {
  if (s.user !== null && s.user !== user) {
    return s.link.send({ t: 'error', code: ChatErrorCode.BadRequest, message: `Already signed in as ${s.user} on this connection.` })
  }
  s.user = user
  s.link.signedIn()
  s.link.send({ t: 'welcome', user })
}

async function join(s: SessionState, user: string, room: string, ctx: ActorContext<any>, services: SessionServices): Promise<void> {
  if (!s.rooms.has(room) && s.rooms.size >= MAX_ROOMS_PER_SESSION) {
    return s.link.send({ t: 'error', code: ChatErrorCode.TooManyRooms, message: `At most ${MAX_ROOMS_PER_SESSION} rooms at once: leave one first.`, room })
  }
  // Subscribe before reading the history: a line committed after the read
  // is published after it, so it reaches us; one before it is in the read.
  try {
    await services.pubsub.subscribe(roomTopic(room), ctx.self)
  } catch (err) {
    // A member that is down but not yet removed does not confirm; the
    // subscription stays and reaches it when it can.
    if (!(isTroupeError(err) && err.code === 'ASK_TIMEOUT')) throw err
  }
  // Opening a room that does not exist creates it, within this user's and address's budget.
  const refused = await openRoom(s, user, room, services)
  if (refused !== null) {
    if (!s.rooms.has(room)) await services.pubsub.unsubscribe(roomTopic(room), ctx.self)
    return s.link.send({ t: 'error', ...refused, room })
  }
  const reply = await services.room(room).ask('join', { key: s.key, user }, { timeoutMs: REQUEST_TIMEOUT_MS })
  if (!reply.ok) {
    if (!s.rooms.has(room)) await services.pubsub.unsubscribe(roomTopic(room), ctx.self)
    return s.link.send({ t: 'error', code: reply.code, message: reply.message, room })
  }
  const history = (await services.history.read({ op: 'history', room }, { timeoutMs: REQUEST_TIMEOUT_MS })) as ChatMessage[]
  s.rooms.add(room)
  s.link.send({ t: 'joined', room, host: reply.host, members: reply.members, history })
}

/** Makes sure `room` exists in the history (creating it if need be); the refusal if it may not be created. */
async function openRoom(s: SessionState, user: string, room: string, services: SessionServices): Promise<{ code: ChatErrorCode; message: string } | null> {
  const lines = await services.history.read({ op: 'room', room }, { timeoutMs: REQUEST_TIMEOUT_MS })
  if (lines !== null) return null
  try {
    await services.history.propose({ op: 'create', room, by: { user, addr: s.addr }, ttlMs: services.roomTtlMs }, { timeoutMs: REQUEST_TIMEOUT_MS })
    return null
  } catch (err) {
    const refusal = historyRefusal(err)
    if (refusal === null) throw err
    return refusal
  }
}

async function post(s: SessionState, user: string, f: Extract<ClientFrame, { t: 'post' }>, ctx: ActorContext<any>, services: SessionServices): Promise<void> {
  const { room, cid } = f
  if (!s.rooms.has(room)) return s.link.send({ t: 'error', code: ChatErrorCode.NotInRoom, message: `Join ${room} before posting to it.`, room, cid })
  const now = ctx.system.clock.now()
  if (!services.postLimiter.take(user, now)) {
    const waitMs = services.postLimiter.waitMs(user, now)
    return s.link.send({ t: 'error', code: ChatErrorCode.RateLimited, message: `Slow down: ${POSTS_PER_SECOND} message per second (next in ${(waitMs / 1000).toFixed(1)} s).`, room, cid })
  }
  try {
    const reply = await services.room(room).ask('post', { key: s.key, user, addr: s.addr, text: f.text, cid }, { timeoutMs: REQUEST_TIMEOUT_MS })
    if (!reply.ok) return s.link.send({ t: 'error', code: reply.code, message: reply.message, room, cid })
    s.link.send({ t: 'posted', room, cid, msg: reply.msg })
    // A line sent ends a bout of typing: the next keystroke may say so at once.
    s.typingMs.delete(room)
  } catch (err) {
    s.link.send({ t: 'error', code: ChatErrorCode.Unavailable, message: `The room did not answer (${describe(err)}); the message is sent again on retry.`, room, cid })
  }
}

function roomOf(f: ClientFrame): { room?: string; cid?: string } {
  return { ...('room' in f ? { room: f.room } : {}), ...('cid' in f ? { cid: f.cid } : {}) }
}

function describe(err: unknown): string {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code
  return err instanceof Error ? err.message : String(err)
}
