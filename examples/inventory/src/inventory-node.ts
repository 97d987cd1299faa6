// One inventory node: an actor system on the WebSocket transport, a cluster
// member, five Raft groups on one write-ahead log (stock-east, stock-west,
// payments, the saga log, the lease table), the payment actor, the saga
// coordinator, the restock singleton and the HTTP API. `startInventoryNode`
// wires them; `stop` takes them down in the reverse order.
import { ActorSystem, Cluster, NodeDisk, WebSocketTransport } from '@troupe/runtime'
import type { ActorRef } from '@troupe/runtime'
import { WriteAheadLog, group } from '@troupe/raft'
import { Leases, openLeaseGroup } from '@troupe/lease'
import { RaftSagaLog, SagaCoordinator } from '@troupe/saga'
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
const LEAVE_TIMEOUT_MS = 5000
const GROUP_TIMEOUT_MS = 5000
/** How often the coordinator looks for sagas to resume: its own (after a restart) and those of nodes that are not up. */
const RECOVER_EVERY_MS = 2000
/** Orders the dashboard lists, per node. */
const MAX_RECENT_ORDERS = 30

export async function startInventoryNode(config: InventoryNodeConfig, log: (line: string) => void): Promise<InventoryNode> {
  const peers: Record<string, string> = {}
  for (const s of config.seeds ?? []) if (s.node !== config.name) peers[s.node] = s.address
  const transport = new WebSocketTransport({
    listen: { host: config.host, port: config.port },
    peers,
    secret: config.secret,
    reconnect: { minMs: 100, maxMs: 2000 },
    log: (e) => {
      if (e.level === 'error') log(`transport ${e.event} ${e.node ?? ''} ${e.reason ?? ''}`)
    },
  })
  const system = new ActorSystem({ name: config.name, transport })
  await system.start()
  const clusterUrl = `ws://${hostPart(config.advertise)}:${transport.address()!.port}`
  const cluster = Cluster.start(system, { address: clusterUrl, seeds: config.seeds ?? [{ node: config.name, address: clusterUrl }], transport, ...FAILURE_DETECTION })

  const disk = new NodeDisk(config.dataDir)
  const wal = await WriteAheadLog.open(disk, { dir: 'raft', segmentBytes: 8 * 1024 * 1024 })
  const members = config.members
  const isMember = members.includes(config.name)
  const common = { members, requestTimeoutMs: GROUP_TIMEOUT_MS, snapshotEveryEntries: 5000 }

  const stockGroups = new Map<Warehouse, StockGroup>()
  for (const w of WAREHOUSES) {
    const g: StockGroup = await group(system, { id: stockGroupId(w), ...common, ...(isMember ? { stateMachine: () => new StockMachine(w, INITIAL_STOCK), storage: wal } : {}) })
    stockGroups.set(w, g)
  }
  const stock = (w: Warehouse): StockGroup => stockGroups.get(w)!
  const ledger: LedgerGroup = await group(system, { id: 'payments', ...common, ...(isMember ? { stateMachine: () => new PaymentLedger(), storage: wal } : {}) })
  const sagaLog = await RaftSagaLog.open(system, { id: 'sagas', ...common, ...(isMember ? { storage: wal } : {}) })
  const leaseGroup = await openLeaseGroup(system, { id: 'leases', ...common, ...(isMember ? { storage: wal } : {}) })
  const leases = new Leases(system, leaseGroup.group)

  const payment: ActorRef<PaymentProtocol> = system.spawn(paymentService(ledger), { name: 'payment' })
  const placeOrderSaga = orderSaga({ stock, payment: () => payment })
  const sagas = new SagaCoordinator({ system, log: sagaLog, definitions: [placeOrderSaga], report: (line) => log(`saga: ${line}`) })

  // Resume sagas: this node's own after a restart, and those last driven by
  // members the cluster no longer counts as up (their coordinators died).
  let recovering = false
  const recover = async (): Promise<void> => {
    if (recovering) return
    recovering = true
    try {
      const up = new Set(cluster.upMembers())
      const owners = [config.name, ...members.filter((m) => m !== config.name && !up.has(m))]
      const resumed = await sagas.recover({ owners })
      if (resumed.length) log(`resumed ${resumed.length} saga(s) of ${owners.join(',')}`)
    } catch (err) {
      // The saga log has no quorum yet: the next round tries again.
      if (!/LOG_UNAVAILABLE|LOG_CONFLICT/.test(String((err as { code?: unknown })?.code))) log(`recover: ${String((err as Error)?.message ?? err)}`)
    } finally {
      recovering = false
    }
  }
  const recoverTimer = setInterval(() => void recover(), RECOVER_EVERY_MS)
  void recover()

  const restock = new RestockJob({ node: config.name, leases, stock, everyMs: config.restockEveryMs, log })
  restock.start()

  cluster.on('memberUp', (m) => log(`member up: ${m.node}`))
  cluster.on('memberDown', (m) => {
    log(`member down: ${m.node}`)
    void recover()
  })

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

  const node: InventoryNode = {
    name: config.name,
    system,
    cluster,
    httpUrl: '',
    clusterUrl,
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

  const api = new HttpApi(node)
  const httpPort = (await api.listen(config.host, config.httpPort)).port
  const httpUrl = `http://${hostPart(config.advertise)}:${httpPort}`
  Object.assign(node, { httpUrl })

  let stopping: Promise<void> | null = null
  function stop(): Promise<void> {
    stopping ??= (async () => {
      clearInterval(recoverTimer)
      await api.close()
      await restock.stop()
      await sagas.close().catch(() => {})
      await leases.close().catch(() => {})
      if (cluster.isUp) await Promise.race([cluster.leave(), sleep(LEAVE_TIMEOUT_MS)])
      for (const g of [...stockGroups.values(), ledger]) await g.stop().catch(() => {})
      await sagaLog.close().catch(() => {})
      await leaseGroup.group.stop().catch(() => {})
      await wal.close().catch(() => {})
      await disk.close()
      await system.terminate()
    })()
    return stopping
  }

  return node
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
