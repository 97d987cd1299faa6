import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { SimCluster, type Faults } from './sim-cluster.js'

// Randomized clusters with drops, duplicates, reordering, partitions and
// crashes (losing unsynced writes), checked on every step for election
// safety, state machine safety and read freshness; then healed, and required
// to make progress again.
const seeds = Number(process.env.RAFT_SEEDS ?? 40)
const faults: Faults = { drop: 0.05, duplicate: 0.05, crash: 0.002, partition: 0.004 }

for (const [label, ids, extra, spares] of [
  ['3 nodes', ['a', 'b', 'c'], {}],
  ['5 nodes', ['a', 'b', 'c', 'd', 'e'], {}],
  ['5 nodes, no prevote/checkquorum', ['a', 'b', 'c', 'd', 'e'], { preVote: false, checkQuorum: false }],
  ['3 nodes, tiny windows', ['a', 'b', 'c'], { maxInflightMsgs: 2, maxMsgBytes: 3, maxSnapshotChunkBytes: 4 }],
  ['3 nodes, lease reads', ['a', 'b', 'c'], { readOnly: 'lease' }],
  ['3 voters + 2 spares, membership churn', ['a', 'b', 'c'], {}, ['d', 'e']],
  ['membership churn, tiny windows', ['a', 'b', 'c'], { maxInflightMsgs: 2, maxMsgBytes: 3, maxSnapshotChunkBytes: 4 }, ['d', 'e']],
] as const) {
  test(`safety under faults: ${label}`, () => {
    let proposals = 0
    let reads = 0
    let terms = 0
    let changes = 0
    for (let seed = 1; seed <= seeds; seed++) {
      const c = new SimCluster(seed, [...ids], extra, spares === undefined ? [] : [...spares])
      try {
        for (let i = 0; i < 5000; i++) c.step(faults)
        c.heal()
        const settled = c.settle(20000)
        assert.ok(settled, `seed ${seed}: cluster did not recover after healing`)
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`)
      }
      proposals += c.proposalsCommitted
      reads += c.readsServed
      terms += c.terms
      changes += c.confChanges
    }
    console.log(`  ${label}: ${seeds} seeds, ${proposals} proposals committed, ${reads} reads served, ${terms} leader terms, ${changes} config changes proposed`)
    assert.ok(proposals > 0)
  })
}

test.run()
