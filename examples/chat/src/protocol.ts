// What travels between a browser and its node (JSON text frames on /ws),
// and what a room publishes to its topic. The page (public/app.js) speaks
// the same shapes.

/** One stored chat line. `seq` grows by one per room and never repeats, also across failovers. */
export interface ChatMessage {
  seq: number
  user: string
  text: string
  /** The history group leader's clock when the line was committed (ms since the epoch). */
  timeMs: number
  /** The id the sending page gave the line, so a retried post is stored once. */
  cid: string
}

export interface NodeInfo {
  name: string
  /** Where a browser loads the page from, e.g. http://127.0.0.1:8101 */
  http: string
  /** Where a browser opens its WebSocket, e.g. ws://127.0.0.1:8101/ws */
  ws: string
}

export interface RoomSummary {
  name: string
  /** Highest seq stored (0: none yet). */
  lastSeq: number
}

/** Browser → node. */
export type ClientFrame =
  | { t: 'hello'; user: string }
  | { t: 'join'; room: string }
  | { t: 'leave'; room: string }
  | { t: 'post'; room: string; text: string; cid: string }
  | { t: 'typing'; room: string }
  | { t: 'rooms' }

/** Node → browser. */
export type ServerFrame =
  | { t: 'node'; node: string; nodes: NodeInfo[] }
  | { t: 'nodes'; nodes: NodeInfo[] }
  | { t: 'welcome'; user: string }
  | { t: 'joined'; room: string; host: string; members: string[]; history: ChatMessage[] }
  | { t: 'left'; room: string }
  | { t: 'rooms'; rooms: RoomSummary[] }
  | { t: 'posted'; room: string; cid: string; msg: ChatMessage }
  | { t: 'error'; code: ChatErrorCode; message: string; room?: string; cid?: string }
  | RoomEvent

/** What a room publishes on its topic; sessions pass it on to their browsers as is. */
export type RoomEvent =
  | { t: 'message'; room: string; msg: ChatMessage }
  | { t: 'presence'; room: string; host: string; members: string[] }
  | { t: 'typing'; room: string; user: string }

/** Every error a browser can be shown, as a closed set. */
export const ChatErrorCode = {
  BadRequest: 'BAD_REQUEST',
  NotLoggedIn: 'NOT_LOGGED_IN',
  InvalidUser: 'INVALID_USER',
  InvalidRoom: 'INVALID_ROOM',
  MessageEmpty: 'MESSAGE_EMPTY',
  MessageTooLong: 'MESSAGE_TOO_LONG',
  InvalidText: 'INVALID_TEXT',
  RateLimited: 'RATE_LIMITED',
  TooManyRooms: 'TOO_MANY_ROOMS',
  NotInRoom: 'NOT_IN_ROOM',
  RoomFull: 'ROOM_FULL',
  RoomLimit: 'ROOM_LIMIT',
  RoomBudget: 'ROOM_BUDGET',
  Unavailable: 'UNAVAILABLE',
  ServerBusy: 'SERVER_BUSY',
} as const
export type ChatErrorCode = (typeof ChatErrorCode)[keyof typeof ChatErrorCode]

/** Topic of a room on the cluster's pub/sub. */
export const roomTopic = (room: string): string => `room:${room}`
