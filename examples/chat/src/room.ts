// A chat room is a sharded entity ("room", id = the room name): it lives on
// whichever node owns its shard and moves when membership changes. It is the
// single writer of its room: posts go through it into the durable history
// (the Raft group) and out to every member through pub/sub. Presence is soft
// state: sessions tell the room they are still there every
// PRESENCE_HEARTBEAT_MS, so a room activated on a new node after a crash
// knows its members again within one heartbeat.
//
// Rooms run under a lease each (the chat node gives sharding a
// leaseActivationGuard): a room is active on one node at a time even while
// nodes disagree about who is up, and its appends carry the lease's fencing
// token, which the history refuses once a newer activation has written.
import { defineActor, entityActivation, entityId } from '@troupe/runtime'
import type { ActorContext, ActorDef, PubSub } from '@troupe/runtime'
import type { RaftGroup } from '@troupe/raft'
import { isRaftGroupError } from '@troupe/raft'
import { historyRefusal } from './history.js'
import type { HistoryCommand, HistoryQuery, HistoryQueryResult, HistoryResult } from './history.js'
import { MAX_MEMBERS_PER_ROOM, PRESENCE_TTL_MS, REQUEST_TIMEOUT_MS } from './limits.js'
import { ChatErrorCode, roomTopic } from './protocol.js'
import type { ChatMessage, RoomEvent } from './protocol.js'

export type HistoryGroup = RaftGroup<HistoryCommand, HistoryResult, HistoryQuery, HistoryQueryResult>

/** One browser connection, as a room knows it. `key` is unique in the cluster. */
export interface Presence {
  key: string
  user: string
}

export type RoomReply<T> = ({ ok: true } & T) | { ok: false; code: ChatErrorCode; message: string }

interface RoomState {
  room: string
  /** This activation's fencing token (0 without leases). */
  token: number
  /** Session key → user and when the room last heard of it (system clock). */
  sessions: Map<string, { user: string; seenMs: number }>
  /** The member list last published, to publish only changes. */
  published: string
}

export interface RoomServices {
  history: HistoryGroup
  pubsub: PubSub
  /** TTL of the rooms this node creates; a room with members tells the history it is alive several times per TTL. */
  roomTtlMs: number
}

/** How often a room with members tells the history it is still in use: four times per TTL, at most once a minute. */
export function touchEveryMs(roomTtlMs: number): number {
  return Math.min(60_000, Math.max(250, Math.floor(roomTtlMs / 4)))
}

/** Propose a little under the session's own deadline, so the room answers before the session gives up. */
const PROPOSE_TIMEOUT_MS = REQUEST_TIMEOUT_MS - 1000

export function roomEntity(services: RoomServices) {
  return defineActor({
    name: 'room',
    initial: (ctx): RoomState => ({ room: entityId(ctx), token: entityActivation(ctx)?.token ?? 0, sessions: new Map(), published: '' }),
    onStart(s, ctx) {
      ctx.timers.startPeriodic('sweep', PRESENCE_TTL_MS / 3, 'sweep', undefined)
      ctx.timers.startPeriodic('touch', touchEveryMs(services.roomTtlMs), 'touch', undefined)
    },
    handlers: {
      /** A session enters the room: it gets the host and members (the history it reads from the group itself). */
      join(s, p: Presence, ctx): RoomReply<{ host: string; members: string[] }> {
        if (!s.sessions.has(p.key) && s.sessions.size >= MAX_MEMBERS_PER_ROOM) {
          return { ok: false, code: ChatErrorCode.RoomFull, message: `Room ${s.room} has ${MAX_MEMBERS_PER_ROOM} connections, the most it takes.` }
        }
        touch(s, p, ctx)
        publishPresence(s, ctx, services, true)
        return { ok: true, host: ctx.system.name, members: members(s) }
      },
      /** A session's heartbeat (and how a room activated after a failover learns its members again). */
      here(s, p: Presence, ctx) {
        if (!s.sessions.has(p.key) && s.sessions.size >= MAX_MEMBERS_PER_ROOM) return
        touch(s, p, ctx)
        publishPresence(s, ctx, services, false)
      },
      leave(s, key: string, ctx) {
        if (s.sessions.delete(key)) publishPresence(s, ctx, services, false)
      },
      /** Stores a line in the history group, then publishes it to every member on every node. */
      async post(s, p: Presence & { addr: string; text: string; cid: string }, ctx): Promise<RoomReply<{ msg: ChatMessage }>> {
        touch(s, p, ctx)
        publishPresence(s, ctx, services, false)
        let msg: ChatMessage
        try {
          const command: HistoryCommand = { op: 'append', room: s.room, user: p.user, text: p.text, cid: p.cid, token: s.token, by: { user: p.user, addr: p.addr }, ttlMs: services.roomTtlMs }
          msg = (await services.history.propose(command, { timeoutMs: PROPOSE_TIMEOUT_MS })) as ChatMessage
        } catch (err) {
          // The room expired while its members were away, and its creator's budget (or the table) is full.
          const refusal = historyRefusal(err)
          if (refusal !== null) return { ok: false, ...refusal }
          if (isRaftGroupError(err, 'COMMAND_FAILED') && err.message.startsWith('FENCED')) {
            // A newer activation of this room runs elsewhere: this one stops; the page's retry reaches the new one.
            ctx.stop()
            return { ok: false, code: ChatErrorCode.Unavailable, message: 'The room moved to another node; it is sent again when you retry.' }
          }
          const code = isRaftGroupError(err) ? err.code : 'ERROR'
          return { ok: false, code: ChatErrorCode.Unavailable, message: `The message was not confirmed (${code}); it is sent again when you retry.` }
        }
        const event: RoomEvent = { t: 'message', room: s.room, msg }
        services.pubsub.publish(roomTopic(s.room), event)
        return { ok: true, msg }
      },
      /** While anyone is here, the history keeps the room (a touch does not create one that expired). */
      touch(s) {
        if (s.sessions.size === 0) return
        // Not awaited: a lost touch is made up by the next one, well within the TTL.
        services.history.propose({ op: 'touch', room: s.room, token: s.token }, { timeoutMs: PROPOSE_TIMEOUT_MS }).catch(() => {})
      },
      sweep(s, _: void, ctx) {
        const oldest = ctx.system.clock.now() - PRESENCE_TTL_MS
        for (const [key, v] of s.sessions) if (v.seenMs < oldest) s.sessions.delete(key)
        publishPresence(s, ctx, services, false)
      },
    },
  })
}

export type RoomDef = ReturnType<typeof roomEntity>
export type RoomProtocol = RoomDef extends ActorDef<infer P, any> ? P : never

function touch(s: RoomState, p: Presence, ctx: ActorContext<any>): void {
  s.sessions.set(p.key, { user: p.user, seenMs: ctx.system.clock.now() })
}

function members(s: RoomState): string[] {
  return [...new Set([...s.sessions.values()].map((v) => v.user))].sort()
}

/** Publishes the member list if it changed (or always, when a session joins: it shows the host). */
function publishPresence(s: RoomState, ctx: ActorContext<any>, services: RoomServices, always: boolean): void {
  const list = members(s)
  const key = list.join('\n')
  if (!always && key === s.published) return
  s.published = key
  const event: RoomEvent = { t: 'presence', room: s.room, host: ctx.system.name, members: list }
  services.pubsub.publish(roomTopic(s.room), event)
}
