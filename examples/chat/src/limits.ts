// Every limit of the chat in one place. The history ones are part of the
// replicated state machine's behaviour, so they must be equal on every node.

/** Lines each room keeps in its durable history (ring buffer). */
export const HISTORY_PER_ROOM = 100
/** Rooms the history group will hold; creating one more is refused (ROOM_LIMIT) until a room expires. */
export const MAX_ROOMS = 1000
/** Live rooms one user name may have created; one more is refused (ROOM_BUDGET) until one of them expires. */
export const ROOMS_PER_USER = 5
/** Live rooms one client address (IPv4, or IPv6 /64) may have created, whatever names it uses. */
export const ROOMS_PER_ADDRESS = 10
/**
 * A room nobody is in and nobody posts to expires (with its history) this
 * long after its last activity, by the history log's clock. The default; a
 * node's --room-ttl-ms (CHAT_ROOM_TTL_MS) changes it for the rooms it creates.
 */
export const ROOM_TTL_MS = 60 * 60_000
/** The shortest room TTL a node accepts. */
export const MIN_ROOM_TTL_MS = 1000
/** The history looks for expired rooms at most this often (log time), and always before it creates one. */
export const EXPIRY_SCAN_EVERY_MS = 1000
/** Longest line, in characters (code points) after trimming. */
export const MAX_TEXT_CHARS = 500
/** Room names: lower-case letters, digits, '-' and '_', starting with a letter or digit. */
export const ROOM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,31}$/
/** User names: letters, digits, '-', '_' and '.', any script. */
export const USER_PATTERN = /^[\p{L}\p{N}_.-]{1,24}$/u
/** Client message ids: what the page generates (random base-36). */
export const CID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/

/** Largest WebSocket frame a browser may send, in bytes. */
export const MAX_FRAME_BYTES = 4096
/** Posts per user on one node: bucket size and refill rate. */
export const POST_BURST = 5
export const POSTS_PER_SECOND = 1
/** Frames of any kind per connection: bucket size and refill rate. */
export const FRAME_BURST = 40
export const FRAMES_PER_SECOND = 10
/** A connection that keeps flooding past its frame budget this many times is closed. */
export const MAX_REJECTED_FRAMES = 100
/** Typing notices per connection and room are passed on at most this often (pages send one every 1.5 s). */
export const TYPING_EVERY_MS = 1000
/** Users tracked by the per-node post limiter; the least recently seen go first. */
export const MAX_LIMITED_USERS = 10_000

/** Rooms one connection may be in at once. */
export const MAX_ROOMS_PER_SESSION = 20
/** Connections one node serves at once. */
export const MAX_SESSIONS_PER_NODE = 1000
/** Connections from one client address (IPv4, or IPv6 /64) on one node, signed in or not. */
export const MAX_SESSIONS_PER_ADDRESS = 20
/** A connection must sign in (hello) within this long, or it is closed (1008). */
export const HELLO_TIMEOUT_MS = 5000
/** Connections from one address that have not signed in yet; one more is closed at once (1008). */
export const MAX_PENDING_PER_ADDRESS = 4
/** Connections on a node that have not signed in yet; past this the oldest of them is closed (1013) to make room. */
export const MAX_PENDING_PER_NODE = 100
/** Connections (sessions) one room tracks for presence. */
export const MAX_MEMBERS_PER_ROOM = 10_000
/** Frames a session actor holds before the connection counts as flooding. */
export const SESSION_MAILBOX = 1000
/** Bytes waiting in a browser's socket before it counts as too slow and is dropped. */
export const MAX_BUFFERED_BYTES = 1024 * 1024

/** A session tells each of its rooms it is still there this often... */
export const PRESENCE_HEARTBEAT_MS = 5000
/** ...and a room forgets a session it has not heard from for this long. */
export const PRESENCE_TTL_MS = 15_000

/** How long a post or join may take (a failover included) before the page is told. */
export const REQUEST_TIMEOUT_MS = 8000

/**
 * TTL of a room's lease. A room whose node died is activated elsewhere once
 * its lease expired and the cluster moved its shard (failure detection takes
 * about 5 s, so this adds nothing then); a node cut off from the lease
 * group's majority stops its rooms within this time.
 */
export const ROOM_LEASE_TTL_MS = 4000
