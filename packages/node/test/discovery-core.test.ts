// The Cluster Bootstrap decision table: join whoever is in a cluster; form
// only with a stable set, enough contacts, fresh answers from all, nobody in
// a cluster, and this node lowest; the tunables that would break the margin
// are refused.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { BootstrapCore } from '../src/discovery/bootstrap-core.js'
import { resolveTunables } from '../src/discovery/bootstrap-tunables.js'
import { contactKey } from '../src/discovery/contact.js'
import type { Contact } from '../src/discovery/contact.js'
import { isDiscoveryError } from '../src/discovery/discovery-error.js'
import type { ProbeAnswer } from '../src/discovery/probe-answer.js'

const T = resolveTunables({ stableMarginMs: 5000, requiredContactPoints: 2, probeFreshMs: 2500 })
const contacts: Contact[] = [1, 2, 3].map((i) => ({ host: `10.0.0.${i}`, port: 8558 }))
const answer = (i: number, members: ProbeAnswer['members'] = []): ProbeAnswer => ({ node: `n${i}`, address: `ws://10.0.0.${i}:7000`, members })
const self = (i: number) => ({ node: `n${i}`, address: `ws://10.0.0.${i}:7000` })

/** A core for node `i` that discovered all three at 0 and got answers sent at `sentAt`. */
function ready(i: number, sentAt = 5000, members: Record<number, ProbeAnswer['members']> = {}): BootstrapCore {
  const core = new BootstrapCore(self(i), T)
  core.onDiscovery(0, contacts)
  core.onDiscovery(1000, contacts)
  contacts.forEach((c, j) => core.onProbe(contactKey(c), sentAt, answer(j + 1, members[j + 1])))
  return core
}

test('the lowest-address node forms once every condition holds; the others wait for it', () => {
  assert.equal(ready(1).decide(5000), { kind: 'form', contacts: contacts.map(contactKey) })
  const d2 = ready(2).decide(5000)
  assert.is(d2.kind, 'wait')
  assert.match((d2 as { reason: string }).reason, /n1 .* lowest address/)
})

test('the set must be stable for stableMarginMs; a change or a failed lookup restarts the margin', () => {
  const core = ready(1)
  assert.is(core.decide(4999).kind, 'wait')
  core.onDiscovery(5000, contacts.slice(0, 2))
  assert.is(core.decide(9000).kind, 'wait')
  core.onDiscovery(6000, contacts.slice(0, 2))
  contacts.slice(0, 2).forEach((c, j) => core.onProbe(contactKey(c), 9500, answer(j + 1)))
  assert.is(core.decide(10_000).kind, 'form')
  core.onDiscoveryFailed()
  assert.match((core.decide(10_000) as { reason: string }).reason, /no discovery answer/)
  core.onDiscovery(11_000, contacts.slice(0, 2))
  assert.is(core.decide(15_999).kind, 'wait')
})

test('fewer than requiredContactPoints contacts never form', () => {
  const core = new BootstrapCore(self(1), resolveTunables({ requiredContactPoints: 4 }))
  core.onDiscovery(0, contacts)
  contacts.forEach((c, j) => core.onProbe(contactKey(c), 9000, answer(j + 1)))
  assert.match((core.decide(10_000) as { reason: string }).reason, /3 of 4 required/)
})

test('every contact must have answered a probe sent within probeFreshMs, with no later failure', () => {
  assert.match((ready(1, 2000).decide(5000) as { reason: string }).reason, /no fresh probe answer from 10\.0\.0\.1/)
  const core = ready(1)
  core.onProbeFailed(contactKey(contacts[2]!), 5001)
  assert.match((core.decide(5100) as { reason: string }).reason, /10\.0\.0\.3/)
  // An older answer arriving late does not replace a newer one.
  core.onProbe(contactKey(contacts[2]!), 5200, answer(3))
  core.onProbe(contactKey(contacts[2]!), 100, answer(3, [self(3)]))
  assert.is(core.decide(5300).kind, 'form')
})

test('a node that is not among the discovered contacts never forms', () => {
  const core = new BootstrapCore({ node: 'n0', address: 'ws://10.0.0.0:7000' }, T)
  core.onDiscovery(0, contacts)
  contacts.forEach((c, j) => core.onProbe(contactKey(c), 9000, answer(j + 1)))
  assert.match((core.decide(10_000) as { reason: string }).reason, /not among the discovered/)
})

test('any contact in a cluster wins over everything: join its members (never this node), largest cluster first', () => {
  const members = { 2: [self(2), self(3)], 3: [self(3)] }
  const d = ready(1, 5000, members).decide(5000)
  assert.equal(d, { kind: 'join', seeds: [self(2), self(3)], via: contactKey(contacts[1]!) })
  // Even before the margin: joining is always safe.
  const early = new BootstrapCore(self(1), T)
  early.onDiscovery(0, contacts)
  early.onProbe(contactKey(contacts[2]!), 10, answer(3, [self(3)]))
  assert.equal(early.decide(20), { kind: 'join', seeds: [self(3)], via: contactKey(contacts[2]!) })
  // A cluster that lists only this node (an old incarnation) is no cluster to join.
  const stale = new BootstrapCore(self(1), T)
  stale.onDiscovery(0, contacts)
  stale.onProbe(contactKey(contacts[1]!), 10, answer(2, [self(1)]))
  assert.is(stale.decide(20).kind, 'wait')
})

test('answers from contacts outside the current set are ignored, and a contact that leaves the set is forgotten', () => {
  const core = new BootstrapCore(self(1), T)
  core.onDiscovery(0, contacts.slice(0, 2))
  core.onProbe(contactKey(contacts[2]!), 10, answer(3, [self(3)]))
  assert.is(core.decide(20).kind, 'wait')
  core.onProbe(contactKey(contacts[1]!), 10, answer(2, [self(2)]))
  core.onDiscovery(30, contacts.slice(0, 1))
  assert.is(core.decide(40).kind, 'wait')
})

test('tunables that would let two nodes form, or never let anyone form, are refused', () => {
  const bad = [
    { stableMarginMs: 3000 },
    { probeTimeoutMs: 3000 },
    { probeIntervalMs: 2000 },
    { requiredContactPoints: 1.5 },
    { lookupIntervalMs: 0 },
    { stableMarginMs: Number.NaN },
  ]
  for (const b of bad) {
    try {
      resolveTunables(b)
      assert.unreachable(JSON.stringify(b))
    } catch (err) {
      assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'), `${JSON.stringify(b)}: ${String(err)}`)
    }
  }
  assert.is(resolveTunables({ stableMarginMs: undefined }).stableMarginMs, 5000)
})

test.run()
