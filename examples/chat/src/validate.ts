// Checks what a browser sends before anything acts on it. Everything from
// the network is untrusted: a frame that does not fit the protocol is
// answered with an error for that one connection and goes no further.
import { CID_PATTERN, MAX_FRAME_BYTES, MAX_TEXT_CHARS, ROOM_PATTERN } from './limits.js'
import { ChatErrorCode } from './protocol.js'
import type { ClientFrame } from './protocol.js'
import { checkUserName } from './user-name.js'

export type Checked<T> = { ok: true; value: T } | { ok: false; code: ChatErrorCode; message: string; room?: string; cid?: string }

// C0 and C1 controls except tab and newline, bidi overrides and lone surrogates.
const FORBIDDEN_TEXT = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

const fail = (code: ChatErrorCode, message: string, extra: { room?: string; cid?: string } = {}): Checked<never> => ({ ok: false, code, message, ...extra })

export function checkRoom(room: unknown): Checked<string> {
  if (typeof room === 'string' && ROOM_PATTERN.test(room)) return { ok: true, value: room }
  return fail(ChatErrorCode.InvalidRoom, 'Room names are 1-32 characters: a-z, 0-9, "-" and "_", starting with a letter or digit.')
}

/** A user name, NFKC-normalised; look-alikes of another script's names are refused (user-name.ts). */
export function checkUser(user: unknown): Checked<string> {
  const checked = checkUserName(user)
  if (checked.ok) return { ok: true, value: checked.name }
  return fail(ChatErrorCode.InvalidUser, 'User names are 1-24 letters (one script), digits 0-9, "-", "_" or ".", and may not imitate a name in another script.')
}

/** Trims the line and checks its length and characters. */
export function checkText(text: unknown, room: string, cid: string): Checked<string> {
  if (typeof text !== 'string') return fail(ChatErrorCode.BadRequest, 'text must be a string', { room, cid })
  const trimmed = text.trim()
  if (trimmed.length === 0) return fail(ChatErrorCode.MessageEmpty, 'Empty messages are not sent.', { room, cid })
  if (FORBIDDEN_TEXT.test(trimmed)) return fail(ChatErrorCode.InvalidText, 'The message contains control characters.', { room, cid })
  const chars = [...trimmed].length
  if (chars > MAX_TEXT_CHARS) return fail(ChatErrorCode.MessageTooLong, `Messages are at most ${MAX_TEXT_CHARS} characters (this one has ${chars}).`, { room, cid })
  return { ok: true, value: trimmed }
}

function echoRoom(room: unknown): { room?: string } {
  return typeof room === 'string' && room.length <= 100 ? { room } : {}
}

/** Parses one text frame from a browser into a well-formed ClientFrame. */
export function parseClientFrame(data: string): Checked<ClientFrame> {
  if (data.length > MAX_FRAME_BYTES) return fail(ChatErrorCode.BadRequest, 'frame too large')
  let raw: unknown
  try {
    raw = JSON.parse(data)
  } catch {
    return fail(ChatErrorCode.BadRequest, 'frames are JSON objects')
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(ChatErrorCode.BadRequest, 'frames are JSON objects')
  const f = raw as Record<string, unknown>
  switch (f.t) {
    case 'hello': {
      const user = checkUser(f.user)
      return user.ok ? { ok: true, value: { t: 'hello', user: user.value } } : user
    }
    case 'join':
    case 'leave':
    case 'typing': {
      const room = checkRoom(f.room)
      // Echo the rejected name so the page knows which room it was.
      return room.ok ? { ok: true, value: { t: f.t, room: room.value } } : { ...room, ...echoRoom(f.room) }
    }
    case 'post': {
      const room = checkRoom(f.room)
      if (!room.ok) return room
      if (typeof f.cid !== 'string' || !CID_PATTERN.test(f.cid)) return fail(ChatErrorCode.BadRequest, 'cid must be 1-40 characters of [A-Za-z0-9_-]', { room: room.value })
      const text = checkText(f.text, room.value, f.cid)
      return text.ok ? { ok: true, value: { t: 'post', room: room.value, text: text.value, cid: f.cid } } : text
    }
    case 'rooms':
      return { ok: true, value: { t: 'rooms' } }
    default:
      return fail(ChatErrorCode.BadRequest, `unknown frame type ${JSON.stringify(String(f.t).slice(0, 20))}`)
  }
}
