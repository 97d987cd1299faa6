// One inventory node on `startNode`: the node brings the transport, the
// cluster, the write-ahead log, the lease table, the saga coordinator on its
// Raft log (with the recover loop that resumes sagas of restarted or downed
// nodes) and the coordinated shutdown. This file adds what is the app's own:
// the stock and payment Raft groups, the payment actor, the order saga, the
// restock singleton and the HTTP API.
import type { ActorRef, ActorSystem, Cluster } from '@troupe/runtime'
import { startNode } from '@troupe/node'
import type { NodeLogLevel } from '@troupe/node'
import { INITIAL_STOCK, WAREHOUSES, stockGroupId } from './catalog.js'
import type { Warehouse } from './catalog.js'
import type { InventoryNodeConfig } from './config.js'
import { hostPart } from './config.js'
import { HttpApi } from './http-api.js'
import { orderSaga } from './order-saga.js'
import type { OrderInput, StockGroup } from './order-saga.js'
import { PaymentLedger } from './payment-ledger.js'
import type { Charge, PaymentMode } from './payment-ledger.js'
import { paymentService } from './payment-service.js'
import type { LedgerGroup, PaymentProtocol } from './payment-service.js'
import { RESTOCK_ELECTION, RestockJob } from './restock-job.js'
import { StockMachine } from './stock.js'
import type { Reservation, StockView } from './stock.js'

export interface OrderView {
  id: string
  state: string
  input: unknown
  owner: string
  steps: Record<string, unknown>
  results: Record<string, unknown>
  cause?: unknown
  stuck?: unknown
}

export interface InventoryNode {
  readonly name: string
  readonly system: ActorSystem
  readonly cluster: Cluster
  readonly httpUrl: string
  readonly clusterUrl: string
  health(): { node: string; up: string[]; status: string | null }
  stockView(): Promise<Record<string, StockView>>
  placeOrder(input: OrderInput, id?: string): Promise<{ id: string; created: boolean; node: string }>
  order(id: string): Promise<OrderView | null>
  recentOrders(): Promise<OrderView[]>
  paymentMode(): Promise<PaymentMode>
  setPaymentMode(mode: PaymentMode): Promise<void>
  restockStatus(): Promise<unknown>
  audit(): Promise<{ stock: Record<string, StockView>; reservations: Record<string, Record<string, Reservation>>; charges: Record<string, Charge> }>
  whenUp(): Promise<boolean>
  stop(): Promise<void>
}

/** Failure detection as in the chat example: ~2 s of silence, then 3 s of stable unreachability. */
const FAILURE_DETECTION = { heartbeatIntervalMs: 500, gossipIntervalMs: 500, acceptableHeartbeatPauseMs: 2000, stableAfterMs: 3000, seedTimeoutMs: 2000 }
const GROUP_TIMEOUT_MS = 5000
/** How often the coordinator looks for sagas to resume: its own (after a restart) and those of nodes that are not up. */
const RECOVER_EVERY_MS = 2000
/** Orders the dashboard lists, per node. */
const MAX_RECENT_ORDERS = 30

interface Participants {
  stock(w: Warehouse): StockGroup
  payment: ActorRef<PaymentProtocol>
}

export interface InventoryNodeOptions {
  /** SIGTERM/SIGINT stop the node and exit the process; a downed node exits with code 75 (the command line's node.ts). Default false. */
  installSignalHandlers?: boolean
}

export async function startInventoryNode(config: InventoryNodeConfig, log: (line: string) => void, options: InventoryNodeOptions = {}): Promise<InventoryNode> {
  // The saga's steps reach the stock groups and the payment actor through
  // this promise: a saga the recover loop resumes during start-up waits here.
  let participantsReady!: (p: Participants) => void
  const participants = new Promise<Participants>((resolve) => (participantsReady = resolve))
  const placeOrderSaga = orderSaga({ stock: async (w) => (await participants).stock(w), payment: async () => (await participants).payment })

  const members = config.members
  const isMember = members.includes(config.name)
  const node = await startNode({
    name: config.name,
    listen: { host: config.host, port: config.port },
    advertise: config.advertise,
    secret: config.secret,
    ...(config.seeds ? { seeds: config.seeds } : {}),
    dataDir: config.dataDir,
    raftMembers: members,
    cluster: FAILURE_DETECTION,
    services: {
      raft: {},
      leases: { group: 'leases' },
      sagas: { definitions: [placeOrderSaga], logGroup: 'sagas', recoverEveryMs: RECOVER_EVERY_MS },
    },
    installSignalHandlers: options.installSignalHandlers ?? false,
    log: (level: NodeLogLevel, message: string) => {
      if (level !== 'debug') log(level === 'info' ? message : `${level}: ${message}`)
    },
  })
  const { system, cluster } = node
  const common = { requestTimeoutMs: GROUP_TIMEOUT_MS, snapshotEveryEntries: 5000 }
  const stockGroups = new Map<Warehouse, StockGroup>()
  for (const w of WAREHOUSES) {
    const g: StockGroup = await node.raft.group({ id: stockGroupId(w), ...common, ...(isMember ? { stateMachine: () => new StockMachine(w, INITIAL_STOCK) } : {}) })
    stockGroups.set(w, g)
  }
  const stock = (w: Warehouse): StockGroup => stockGroups.get(w)!
  const ledger: LedgerGroup = await node.raft.group({ id: 'payments', ...common, ...(isMember ? { stateMachine: () => new PaymentLedger() } : {}) })
  const payment: ActorRef<PaymentProtocol> = system.spawn(paymentService(ledger), { name: 'payment' })
  participantsReady({ stock, payment })
  const sagas = node.sagas
  const leases = node.leases

  const restock = new RestockJob({ node: config.name, leases, stock, everyMs: config.restockEveryMs, clock: system.clock, log })
  restock.start()

  cluster.on('memberUp', (m) => log(`member up: ${m.node}`))
  cluster.on('memberDown', (m) => log(`member down: ${m.node}`))

  const recent: string[] = []
  let seq = 0
  const readStock = async (): Promise<Record<string, StockView>> => {
    const views = await Promise.all(WAREHOUSES.map((w) => stock(w).read({ op: 'stock' }, { timeoutMs: GROUP_TIMEOUT_MS })))
    return Object.fromEntries(WAREHOUSES.map((w, i) => [w, views[i] as StockView]))
  }
  const order = async (id: string): Promise<OrderView | null> => {
    const s = await sagas.status(id)
    if (s === null) return null
    return { id, state: s.state, input: s.input, owner: s.owner, steps: s.steps, results: s.results, cause: s.cause, stuck: s.stuck }
  }

  const inventory: InventoryNode = {
    name: config.name,
    system,
    cluster,
    httpUrl: '',
    clusterUrl: node.address,
    health: () => ({ node: config.name, up: cluster.upMembers(), status: cluster.status }),
    stockView: readStock,
    async placeOrder(input, id) {
      const orderId = id ?? `${config.name}-${system.clock.now().toString(36)}-${++seq}`
      const started = await sagas.start(placeOrderSaga, input, { id: orderId })
      if (!recent.includes(started.id)) recent.unshift(started.id)
      if (recent.length > MAX_RECENT_ORDERS) recent.length = MAX_RECENT_ORDERS
      return { ...started, node: config.name }
    },
    order,
    async recentOrders() {
      const views = await Promise.all(recent.map((id) => order(id).catch(() => null)))
      return views.filter((v): v is OrderView => v !== null)
    },
    paymentMode: async () => (await ledger.read({ op: 'mode' }, { timeoutMs: GROUP_TIMEOUT_MS })) as PaymentMode,
    async setPaymentMode(mode) {
      await ledger.propose({ op: 'mode', mode }, { timeoutMs: GROUP_TIMEOUT_MS })
    },
    async restockStatus() {
      return { node: config.name, here: restock.status(), leader: await leases.leader(RESTOCK_ELECTION), everyMs: config.restockEveryMs }
    },
    async audit() {
      const reservations: Record<string, Record<string, Reservation>> = {}
      for (const w of WAREHOUSES) reservations[w] = (await stock(w).read({ op: 'reservations' }, { timeoutMs: GROUP_TIMEOUT_MS })) as Record<string, Reservation>
      const charges = (await ledger.read({ op: 'charges' }, { timeoutMs: GROUP_TIMEOUT_MS })) as Record<string, Charge>
      return { stock: await readStock(), reservations, charges }
    },
    whenUp: () => cluster.whenUp(),
    stop,
  }

  const api = new HttpApi(inventory)
  const httpPort = (await api.listen(config.host, config.httpPort)).port
  const httpUrl = `http://${hostPart(config.advertise)}:${httpPort}`
  Object.assign(inventory, { httpUrl })

  // The app's own parts stop first (no new orders, no restock rounds); the
  // node's phases then move leadership, release leases, park sagas and leave.
  node.onShutdown('stop-work', 'http-api', () => api.close())
  node.onShutdown('stop-work', 'restock-job', () => restock.stop())
  let stopping: Promise<void> | null = null
  function stop(): Promise<void> {
    stopping ??= node.shutdown({ reason: 'stop' }).then(() => undefined)
    return stopping
  }

  return inventory
}
