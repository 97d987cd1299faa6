// A Raft group on three real processes over loopback WebSocket (shared
// secret), each with its own WriteAheadLog on disk (fdatasync) in a temp dir.
// Writes go through every node; the leader is SIGKILLed while writes are in
// flight; the survivors elect a new leader and take more writes; the killed
// process restarts from its data dir and catches up. Every acknowledged
// write must then be present, and linearizable reads run on each of the
// three nodes must return the same state. Children are killed in `finally`;
// the whole test fails (rather than hangs) after TEST_TIMEOUT_MS.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { GroupStatus } from '@troupe/raft'
import { NodeProcess, RAFT_NODE, killAll } from './fixtures/node-process.js'

const TEST_TIMEOUT_MS = 60_000
/** Generous: three `node --import tsx` start-ups on a loaded machine. */
const STARTUP_MS = 30_000
const NAMES = ['n1', 'n2', 'n3']

/** Runs `body`; rejects with the children's last output if it takes longer than `ms`. */
async function withTimeout<T>(ms: number, nodes: () => NodeProcess[], body: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`raft-processes: not done within ${ms} ms\n${nodes().map((n) => n.tail()).join('\n')}`)), ms)
  })
  try {
    return await Promise.race([body(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Writes that were acknowledged (must survive) and those whose outcome is unknown (may or may not). */
class Ledger {
  readonly acked = new Map<string, string>()
  readonly unknown = new Map<string, string>()
  readonly failures: string[] = []

  async put(node: NodeProcess, key: string, value: string): Promise<boolean> {
    const r = await node.call({ cmd: 'put', key, value }).catch((err: Error) => ({ ok: false, code: 'NO_REPLY', message: err.message }))
    if (r.ok) this.acked.set(key, value)
    else {
      this.unknown.set(key, value)
      this.failures.push(`${node.name} ${key}: ${r.code}`)
    }
    return r.ok === true
  }
}

async function status(node: NodeProcess): Promise<GroupStatus> {
  return (await node.ok({ cmd: 'status' })) as GroupStatus
}

/** Waits until every given node names the same leader, in the same term, and that leader says it leads. */
async function agreedLeader(nodes: NodeProcess[], timeoutMs: number): Promise<GroupStatus> {
  const deadline = Date.now() + timeoutMs
  let last: GroupStatus[] = []
  while (Date.now() < deadline) {
    last = await Promise.all(nodes.map(status))
    const lead = last.find((s) => s.role === 'leader')
    if (lead && last.every((s) => s.leader === lead.node && s.term === lead.term)) return lead
    await sleep(50)
  }
  throw new Error(`no agreed leader among ${nodes.map((n) => n.name).join(', ')} within ${timeoutMs} ms: ${JSON.stringify(last)}`)
}

test('3 processes: writes through every node, SIGKILL the leader, new leader, restart, catch up, all acknowledged writes present and equal', async () => {
  const secret = randomBytes(32).toString('hex')
  const dir = mkdtempSync(join(tmpdir(), 'raft-processes-'))
  const nodes: NodeProcess[] = []
  const byName = new Map<string, NodeProcess>()
  const spawnNode = (name: string, port = 0) => {
    const env = { DATA_DIR: join(dir, name), LISTEN_PORT: String(port) }
    const n = new NodeProcess(RAFT_NODE, name, secret, { env, callTimeoutMs: 20_000 })
    nodes.push(n)
    byName.set(name, n)
    return n
  }
  const ledger = new Ledger()
  const t0 = Date.now()
  try {
    await withTimeout(TEST_TIMEOUT_MS, () => nodes, async () => {
      for (const name of NAMES) spawnNode(name)
      const urls: Record<string, string> = {}
      for (const n of [...nodes]) urls[n.name] = (await n.waitFor((e) => e.event === 'listening', 'listening', STARTUP_MS)).url as string
      for (const n of [...nodes]) await n.ok({ cmd: 'peers', peers: urls })
      await Promise.all(nodes.map((n) => n.ok({ cmd: 'open', members: NAMES })))
      const up = Date.now()

      // Writes through every node (followers forward to the leader), 10 at a time per node.
      for (let round = 0; round < 5; round++) {
        await Promise.all(NAMES.flatMap((name) => Array.from({ length: 10 }, (_, i) => ledger.put(byName.get(name)!, `a-${name}-${round}-${i}`, `v${round}.${i}`))))
      }
      assert.is(ledger.acked.size, 150, `every write before the kill is acknowledged: ${ledger.failures.join('; ')}`)
      const first = await agreedLeader(nodes, 10_000)
      const victim = byName.get(first.node)!
      const survivors = nodes.filter((n) => n !== victim)

      // SIGKILL the leader while writes through the survivors are in flight.
      const during = survivors.flatMap((n) => Array.from({ length: 10 }, (_, i) => ledger.put(n, `b-${n.name}-${i}`, `during-${i}`)))
      await sleep(5)
      const killedAt = Date.now()
      victim.kill('SIGKILL')
      assert.is((await victim.exited).signal, 'SIGKILL')
      await Promise.all(during)

      // The survivors elect a new leader (not the dead one) and keep taking writes.
      const second = await agreedLeader(survivors, 15_000)
      const electedAt = Date.now()
      assert.is.not(second.node, victim.name)
      assert.ok(second.term > first.term, `new term ${second.term} > ${first.term}`)
      const afterKill = ledger.acked.size
      for (const n of survivors) await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.put(n, `c-${n.name}-${i}`, `after-${i}`)))
      assert.is(ledger.acked.size - afterKill, 20, `writes after the failover are acknowledged: ${ledger.failures.join('; ')}`)

      // Restart the killed process from its data dir (same port: the others know its address).
      const port = Number(new URL(urls[victim.name]!).port)
      const reborn = spawnNode(victim.name, port)
      await reborn.waitFor((e) => e.event === 'listening', 'listening (restart)', STARTUP_MS)
      await reborn.ok({ cmd: 'peers', peers: urls })
      await reborn.ok({ cmd: 'open', members: NAMES })
      const restartedAt = Date.now()
      // More writes through the restarted node, then wait until it applied the leader's commit.
      await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.put(reborn, `d-${i}`, `reborn-${i}`)))
      const live = [...survivors, reborn]
      const leaderNow = await agreedLeader(live, 15_000)
      const deadline = Date.now() + 15_000
      let st = await status(reborn)
      while (st.applied < leaderNow.commit && Date.now() < deadline) {
        await sleep(50)
        st = await status(reborn)
      }
      assert.ok(st.applied >= leaderNow.commit, `restarted ${reborn.name} applied ${st.applied} of the leader's commit ${leaderNow.commit}`)
      const caughtUpAt = Date.now()

      // Linearizable reads run on each node: identical, and holding every acknowledged write.
      const states = await Promise.all(live.map(async (n) => [n.name, (await n.ok({ cmd: 'all' })) as Array<[string, string]>] as const))
      const [refName, ref] = states[0]!
      for (const [name, s] of states) assert.equal(s, ref, `state read through ${name} differs from ${refName}`)
      const present = new Map(ref)
      const missing = [...ledger.acked].filter(([k, v]) => present.get(k) !== v)
      assert.equal(missing, [], `acknowledged writes missing or wrong after failover and restart: ${JSON.stringify(missing.slice(0, 10))}`)
      // Nothing appears that nobody wrote.
      const stray = [...present.keys()].filter((k) => !ledger.acked.has(k) && !ledger.unknown.has(k))
      assert.equal(stray, [], 'keys nobody wrote')

      console.log(
        `  cluster up ${up - t0} ms after spawn; ${ledger.acked.size} writes acknowledged, ${ledger.unknown.size} unknown` +
          ` (${ledger.failures.slice(0, 3).join('; ') || 'none'}); leader ${victim.name} killed, ${second.node} agreed leader` +
          ` ${electedAt - killedAt} ms later (term ${first.term} -> ${second.term}); ${victim.name} restarted and caught up` +
          ` ${caughtUpAt - restartedAt} ms after reopening; ${ref.length} keys on each node`,
      )
    })
  } finally {
    await killAll(nodes)
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
