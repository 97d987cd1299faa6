import { ActorSystem } from '@troupe/runtime'
import { WriteAheadLog } from '@troupe/raft'
import { SimWorld } from '@troupe/testkit'
import type { NodeEnv } from '@troupe/testkit'
import { RaftSagaLog } from '../src/index.js'
import { sagaLogConformance } from './log-suite.js'
import type { LogHarness } from './log-suite.js'

const members = ['n1', 'n2', 'n3']

function boot(retainFinished: number | undefined) {
  return async (env: NodeEnv) => {
    const system = new ActorSystem({ ...env.system, askTimeoutMs: 2000 })
    await system.start()
    const wal = await WriteAheadLog.open(env.disk, { dir: 'raft' })
    const log = await RaftSagaLog.open(system, {
      id: 'sagas',
      members,
      storage: wal,
      ...(retainFinished !== undefined ? { retainFinished } : {}),
      snapshotEveryEntries: 4,
      requestTimeoutMs: 3000,
      host: { tickMs: 20, electionTicks: 10, heartbeatTicks: 1 },
    })
    return { system, log }
  }
}

/**
 * Three simulated nodes; the suite talks to n1's log while a driver keeps
 * virtual time running. A reopen is a crash of all three nodes (unsynced
 * writes lost) and a restart from their disks.
 */
sagaLogConformance('RaftSagaLog on three simulated nodes', async (options) => {
  const world = new SimWorld({ seed: 7, network: { latencyMs: { min: 1, max: 5 } } })
  for (const name of members) world.addNode(name, boot(options.retainFinished))
  let running = true
  const driver = (async () => {
    while (running) await world.runFor(20)
  })()
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setImmediate(r))
  }
  await until(() => members.every((n) => world.node(n).up))
  const h: LogHarness = {
    log: (world.node('n1').app as { log: RaftSagaLog }).log,
    async reopen() {
      for (const n of members) world.crash(n)
      for (const n of members) world.restart(n)
      await until(() => members.every((n) => world.node(n).up))
      return (h.log = (world.node('n1').app as { log: RaftSagaLog }).log)
    },
    async cleanup() {
      running = false
      await driver
      world.dispose()
    },
  }
  return h
}).run()
