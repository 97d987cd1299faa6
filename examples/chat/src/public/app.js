// @ts-check
// The chat page: plain JavaScript, served as is. It talks JSON over one
// WebSocket to the node that served it, and when that connection drops it
// reconnects with backoff to its own node first, then to the others the
// server listed. User text only ever reaches the page through textContent.

const MAX_TEXT_CHARS = 500
const TYPING_EVERY_MS = 1500
const TYPING_SHOWN_MS = 3000
const ROOMS_POLL_MS = 10_000
const RETRY_POST_MS = 1500
const MAX_POST_TRIES = 20
const RETRY_JOIN_MS = 2000
const RECONNECT_MIN_MS = 250
const RECONNECT_MAX_MS = 4000
const ERROR_SHOWN_MS = 8000
const NOTICE_SHOWN_MS = 30_000

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id))

const store = {
  /** @template T @param {string} key @param {T} fallback @returns {T} */
  get(key, fallback) {
    try {
      const v = localStorage.getItem(`chat.${key}`)
      return v === null ? fallback : JSON.parse(v)
    } catch {
      return fallback
    }
  },
  /** @param {string} key @param {unknown} value */
  set(key, value) {
    try {
      localStorage.setItem(`chat.${key}`, JSON.stringify(value))
    } catch {}
  },
}

/**
 * @typedef {{ seq: number, user: string, text: string, timeMs: number, cid: string }} ChatMessage
 * @typedef {{ name: string, http: string, ws: string }} NodeInfo
 * @typedef {{ text: string, failed: boolean, tries: number }} Pending
 * @typedef {{ status: 'joining' | 'joined', messages: Map<number, ChatMessage>, pending: Map<string, Pending>,
 *   members: string[], host: string, typing: Map<string, number>, unread: number }} RoomView
 */

const state = {
  /** @type {string | null} */ user: store.get('user', null),
  /** @type {string | null} */ current: store.get('current', null),
  /** Rooms this page wants to be in, kept across reloads and reconnects. */
  /** @type {Set<string>} */ wanted: new Set(store.get('rooms', [])),
  /** @type {Map<string, RoomView>} */ rooms: new Map(),
  /** @type {{ name: string, lastSeq: number }[]} */ known: [],
  /** @type {NodeInfo[]} */ nodes: store.get('nodes', []),
  /** @type {string | null} */ node: null,
  /** @type {WebSocket | null} */ ws: null,
  ready: false,
  attempt: 0,
  lastTypingMs: 0,
}

// ---- connection -----------------------------------------------------------

function candidates() {
  const own = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
  return [own, ...state.nodes.map((n) => n.ws).filter((u) => u !== own)]
}

function connect() {
  const list = candidates()
  const url = list[state.attempt % list.length]
  setConnection('connecting', `connecting to ${nodeLabel(url)}…`)
  const ws = new WebSocket(url)
  state.ws = ws
  ws.onmessage = (e) => {
    if (state.ws !== ws) return
    let frame
    try {
      frame = JSON.parse(String(e.data))
    } catch {
      return
    }
    onFrame(frame)
  }
  ws.onclose = (e) => {
    if (state.ws !== ws) return
    state.ws = null
    state.ready = false
    for (const view of state.rooms.values()) view.status = 'joining'
    // A node closes a connection that does not sign in within a few seconds:
    // without a name, connect again once one is picked.
    if (!state.user) {
      setConnection('closed', e.reason ? `not connected (${e.reason})` : 'not connected')
      return askName()
    }
    const delayMs = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(state.attempt, 10)) * (0.5 + Math.random() / 2)
    state.attempt++
    const next = candidates()[state.attempt % candidates().length]
    setConnection('closed', `disconnected; trying ${nodeLabel(next)} in ${(delayMs / 1000).toFixed(1)} s`)
    render()
    setTimeout(connect, delayMs)
  }
}

/** @param {unknown} frame */
function send(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(frame))
}

/** @param {string} url */
function nodeLabel(url) {
  const n = state.nodes.find((x) => x.ws === url)
  return n ? `node ${n.name}` : new URL(url).host
}

// ---- frames from the node -------------------------------------------------

/** @param {any} f */
function onFrame(f) {
  switch (f.t) {
    case 'node':
      if (state.node !== null && state.node !== f.node) showNotice(`Reconnected to node ${f.node} (node ${state.node} went away).`)
      state.node = f.node
      state.attempt = 0
      setNodes(f.nodes)
      $('node-name').textContent = f.node
      setConnection('open', 'connected')
      if (state.user) send({ t: 'hello', user: state.user })
      else askName()
      return
    case 'nodes':
      return setNodes(f.nodes)
    case 'welcome':
      state.ready = true
      // The node normalises the name (NFKC): keep its spelling.
      state.user = f.user
      store.set('user', f.user)
      $('me').textContent = f.user
      for (const room of new Set([...state.wanted, ...state.rooms.keys()])) join(room)
      send({ t: 'rooms' })
      return
    case 'joined':
      return onJoined(f)
    case 'left':
      return
    case 'rooms':
      state.known = f.rooms
      return renderRooms()
    case 'posted':
    case 'message':
      return addMessage(f.room, f.msg)
    case 'presence': {
      const view = state.rooms.get(f.room)
      if (!view) return
      view.members = f.members
      view.host = f.host
      return f.room === state.current ? renderRoom() : undefined
    }
    case 'typing':
      return onTyping(f.room, f.user)
    case 'error':
      return onError(f)
  }
}

/** @param {NodeInfo[]} nodes */
function setNodes(nodes) {
  if (nodes.length > 0) {
    state.nodes = nodes
    store.set('nodes', nodes)
  }
  const box = $('nodes')
  box.replaceChildren(
    ...state.nodes.map((n) => {
      const tag = el('span', n.name)
      tag.title = n.http
      if (n.name === state.node) tag.className = 'current'
      return tag
    }),
  )
}

/** @param {any} f */
function onJoined(f) {
  const view = roomView(f.room)
  view.status = 'joined'
  view.members = f.members
  view.host = f.host
  for (const m of f.history) view.messages.set(m.seq, m)
  state.wanted.add(f.room)
  saveRooms()
  if (state.current === null) state.current = f.room
  // Lines not confirmed before a reconnect are sent again (the cid keeps them single).
  for (const [cid, p] of view.pending) send({ t: 'post', room: f.room, text: p.text, cid })
  render()
}

/** @param {string} room @param {ChatMessage} msg */
function addMessage(room, msg) {
  const view = state.rooms.get(room)
  if (!view) return
  const isNew = !view.messages.has(msg.seq)
  view.messages.set(msg.seq, msg)
  if (msg.user === state.user) view.pending.delete(msg.cid)
  view.typing.delete(msg.user)
  if (isNew && room !== state.current) view.unread++
  render()
}

/** @param {string} room @param {string} user */
function onTyping(room, user) {
  const view = state.rooms.get(room)
  if (!view || user === state.user) return
  view.typing.set(user, Date.now() + TYPING_SHOWN_MS)
  if (room === state.current) renderTyping()
  setTimeout(renderTyping, TYPING_SHOWN_MS + 50)
}

/** @param {{ code: string, message: string, room?: string, cid?: string }} f */
function onError(f) {
  const view = f.room ? state.rooms.get(f.room) : undefined
  // A room that is moving after a crash does not answer for a few seconds:
  // that is retried quietly (the line shows "retrying", the room "joining…").
  const retried = f.code === 'UNAVAILABLE' && view !== undefined && (f.cid ? (view.pending.get(f.cid)?.tries ?? MAX_POST_TRIES) < MAX_POST_TRIES : view.status === 'joining')
  if (!retried) showError(f.code, f.message)
  if (f.code === 'INVALID_USER' || f.code === 'NOT_LOGGED_IN') {
    state.user = null
    store.set('user', null)
    return askName()
  }
  if (!view || !f.room) return
  const room = f.room
  if (f.cid) {
    const p = view.pending.get(f.cid)
    if (!p) return
    const cid = f.cid
    if (f.code === 'UNAVAILABLE' && p.tries < MAX_POST_TRIES) {
      // Not confirmed: maybe stored, maybe not. The same cid is stored at most once.
      p.failed = true
      setTimeout(() => {
        if (!view.pending.has(cid) || !state.ready || view.status !== 'joined') return
        p.tries++
        send({ t: 'post', room, text: p.text, cid })
      }, RETRY_POST_MS)
    } else {
      view.pending.delete(cid)
      const input = /** @type {HTMLTextAreaElement} */ ($('composer-input'))
      if (input.value === '' && room === state.current) input.value = p.text
    }
    return render()
  }
  if (view.status === 'joining') {
    if (f.code === 'UNAVAILABLE') return void setTimeout(() => state.ready && view.status === 'joining' && join(room), RETRY_JOIN_MS)
    // The room name or the room itself said no: forget it.
    state.rooms.delete(room)
    state.wanted.delete(room)
    if (state.current === room) state.current = [...state.rooms.keys()][0] ?? null
    saveRooms()
    render()
  }
}

// ---- actions ----------------------------------------------------------------

/** @param {string} room */
function join(room) {
  roomView(room).status = 'joining'
  send({ t: 'join', room })
}

/** @param {string} room */
function leave(room) {
  send({ t: 'leave', room })
  state.rooms.delete(room)
  state.wanted.delete(room)
  if (state.current === room) state.current = [...state.rooms.keys()][0] ?? null
  saveRooms()
  render()
}

/** @param {string} text */
function post(text) {
  const room = state.current
  if (!room || text.trim() === '') return
  const view = roomView(room)
  const cid = randomId()
  view.pending.set(cid, { text, failed: false, tries: 1 })
  state.lastTypingMs = 0 // a line sent ends a bout of typing
  if (state.ready && view.status === 'joined') send({ t: 'post', room, text, cid })
  render()
}

/** @param {string} room */
function roomView(room) {
  let view = state.rooms.get(room)
  if (!view) {
    view = { status: 'joining', messages: new Map(), pending: new Map(), members: [], host: '', typing: new Map(), unread: 0 }
    state.rooms.set(room, view)
  }
  return view
}

function saveRooms() {
  store.set('rooms', [...state.wanted])
  store.set('current', state.current)
}

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12))
  return Array.from(bytes, (b) => b.toString(36).padStart(2, '0')).join('')
}

function askName() {
  const dialog = /** @type {HTMLDialogElement} */ ($('login'))
  if (!dialog.open) dialog.showModal()
  $('login-name').focus()
}

// ---- rendering (textContent only) ------------------------------------------

/** @param {string} tag @param {string} [text] @param {string} [cls] */
function el(tag, text, cls) {
  const e = document.createElement(tag)
  if (text !== undefined) e.textContent = text
  if (cls) e.className = cls
  return e
}

/** @param {'connecting' | 'open' | 'closed'} s @param {string} text */
function setConnection(s, text) {
  $('connection').dataset.state = s
  $('status').textContent = text
}

function render() {
  renderRooms()
  renderRoom()
}

function renderRooms() {
  const names = new Set([...state.known.map((r) => r.name), ...state.rooms.keys()])
  const items = [...names].sort().map((name) => {
    const view = state.rooms.get(name)
    const li = el('li')
    li.dataset.room = name
    li.append(el('span', name))
    if (view) li.classList.add('joined')
    if (name === state.current) li.classList.add('current')
    if (view && view.unread > 0) li.append(el('span', String(view.unread), 'badge'))
    li.onclick = () => {
      if (!state.rooms.has(name)) join(name)
      state.current = name
      saveRooms()
      render()
    }
    return li
  })
  $('rooms').replaceChildren(...items)
}

function renderRoom() {
  const room = state.current
  const view = room ? state.rooms.get(room) : undefined
  $('room-title').textContent = room ? `#${room}` : 'No room: join one on the left'
  $('room-host').textContent = !view ? '' : view.status === 'joining' ? 'joining…' : `hosted on node ${view.host}`
  $('leave-button').hidden = !room
  if (!view) {
    $('messages').replaceChildren()
    $('members').replaceChildren()
    return renderTyping()
  }
  view.unread = 0
  const list = $('messages')
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40
  const lines = [...view.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => line(m.user, m.text, new Date(m.timeMs), String(m.seq)))
  for (const p of view.pending.values()) {
    const li = line(state.user ?? '', p.text, null, '')
    li.classList.add(p.failed ? 'failed' : 'pending')
    lines.push(li)
  }
  if (lines.length === 0) lines.push(el('li', view.status === 'joined' ? 'No messages yet: say hello.' : 'Joining…', 'notice'))
  list.replaceChildren(...lines)
  if (atBottom) list.scrollTop = list.scrollHeight
  $('members').replaceChildren(...view.members.map((m) => el('li', m)))
  renderTyping()
}

/** @param {string} user @param {string} text @param {Date | null} at @param {string} seq */
function line(user, text, at, seq) {
  const li = el('li')
  if (seq) li.dataset.seq = seq
  const time = at ? at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false }) : ''
  li.append(el('span', time, 'time'), el('span', user, 'user'), el('span', text, 'text'))
  return li
}

function renderTyping() {
  const view = state.current ? state.rooms.get(state.current) : undefined
  const now = Date.now()
  const who = view ? [...view.typing].filter(([, until]) => until > now).map(([u]) => u) : []
  $('typing').textContent = who.length === 0 ? '' : who.length === 1 ? `${who[0]} is typing…` : `${who.join(', ')} are typing…`
}

/** @param {string} code @param {string} message */
function showError(code, message) {
  const box = el('div', undefined, 'error')
  box.dataset.code = code
  box.append(el('span', code, 'code'), el('span', message))
  $('errors').append(box)
  setTimeout(() => box.remove(), ERROR_SHOWN_MS)
}

/** @param {string} message */
function showNotice(message) {
  const box = el('div', message, 'info')
  $('errors').append(box)
  setTimeout(() => box.remove(), NOTICE_SHOWN_MS)
}

function updateCounter() {
  const input = /** @type {HTMLTextAreaElement} */ ($('composer-input'))
  const n = [...input.value.trim()].length
  const counter = $('counter')
  counter.textContent = n === 0 ? '' : `${n}/${MAX_TEXT_CHARS}`
  counter.classList.toggle('over', n > MAX_TEXT_CHARS)
}

// ---- wiring -------------------------------------------------------------------

function start() {
  const input = /** @type {HTMLTextAreaElement} */ ($('composer-input'))
  $('composer').addEventListener('submit', (e) => {
    e.preventDefault()
    post(input.value)
    input.value = ''
    updateCounter()
  })
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault()
      $('composer').dispatchEvent(new Event('submit', { cancelable: true }))
    }
  })
  input.addEventListener('input', () => {
    updateCounter()
    const now = Date.now()
    if (state.current && input.value.trim() !== '' && now - state.lastTypingMs > TYPING_EVERY_MS) {
      state.lastTypingMs = now
      send({ t: 'typing', room: state.current })
    }
  })
  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const joinInput = /** @type {HTMLInputElement} */ ($('join-input'))
    const room = joinInput.value.trim()
    if (room === '') return
    joinInput.value = ''
    state.current = room
    join(room)
    render()
  })
  $('leave-button').addEventListener('click', () => state.current && leave(state.current))
  $('login-form').addEventListener('submit', () => {
    const name = /** @type {HTMLInputElement} */ ($('login-name')).value.trim()
    if (name === '') return
    state.user = name
    store.set('user', name)
    // Connected already: sign in; otherwise the connection signs in once it is open.
    if (state.ws) send({ t: 'hello', user: name })
    else connect()
  })
  setInterval(() => state.ready && send({ t: 'rooms' }), ROOMS_POLL_MS)
  render()
  // A node closes connections that do not sign in soon: connect once there is a name.
  if (state.user) connect()
  else askName()
}

start()
