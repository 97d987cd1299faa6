// The one contract every discovery method keeps: contacts sorted and
// deduplicated, an empty answer is an answer, a changed backend answer is
// seen by the next lookup, a failing backend is a retryable DISCOVERY_FAILED
// naming it that bootstrap keeps asking until it answers, and an answer
// larger than maxContacts is refused with a typed error.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { realClock } from '@troupe/runtime'
import { runBootstrap } from '../src/discovery/bootstrap-driver.js'
import { resolveTunables } from '../src/discovery/bootstrap-tunables.js'
import type { Contact } from '../src/discovery/contact.js'
import { isDiscoveryError } from '../src/discovery/discovery-error.js'
import type { Discovery } from '../src/discovery/discovery-method.js'

export interface DiscoveryFixture {
  /** The backend name errors must carry. */
  readonly backend: string
  /** The port every contact of `answer` has. */
  readonly port: number
  setUp(): Promise<void>
  tearDown(): Promise<void>
  /** A discovery whose backend answers `hosts` (in this order, duplicates kept), with `maxContacts` if given. */
  answering(hosts: string[], maxContacts?: number): Promise<Discovery>
  /** Makes the backend fail (or recover) for discoveries made by `answering`; absent: this method cannot fail. */
  failing?(on: boolean): void
  /** Whether the backend's answer can change under a running discovery. */
  readonly dynamic: boolean
}

export function discoveryConformance(name: string, fixture: DiscoveryFixture): void {
  const s = suite(`${name} discovery conformance`)
  s.before(() => fixture.setUp())
  s.after(() => fixture.tearDown())
  const at = (...hosts: string[]): Contact[] => hosts.map((host) => ({ host, port: fixture.port }))

  s('answers contacts sorted and deduplicated', async () => {
    const d = await fixture.answering(['10.0.0.3', '10.0.0.1', '10.0.0.3', '10.0.0.12', '10.0.0.2'])
    assert.equal(await d.lookup(), at('10.0.0.1', '10.0.0.12', '10.0.0.2', '10.0.0.3'))
    assert.is(d.backend, fixture.backend)
  })

  s('an empty answer is an answer, not an error', async () => {
    const d = await fixture.answering([])
    assert.equal(await d.lookup(), [])
  })

  if (fixture.dynamic) {
    s('the next lookup sees a changed answer', async () => {
      const d = await fixture.answering(['10.0.0.1'])
      assert.equal(await d.lookup(), at('10.0.0.1'))
      await fixture.answering(['10.0.0.2', '10.0.0.1'])
      assert.equal(await d.lookup(), at('10.0.0.1', '10.0.0.2'))
    })
  }

  s('an answer larger than maxContacts is refused with a typed error naming the backend', async () => {
    const hosts = Array.from({ length: 5 }, (_, i) => `10.0.1.${i + 1}`)
    let err: unknown
    try {
      await (await fixture.answering(hosts, 4)).lookup()
    } catch (e) {
      err = e
    }
    assert.ok(isDiscoveryError(err), String(err))
    assert.ok(['DISCOVERY_FAILED', 'INVALID_DISCOVERY_CONFIG'].includes((err as { code: string }).code))
    assert.match((err as Error).message, new RegExp(`^${fixture.backend}: .*maxContacts`))
    assert.equal(await (await fixture.answering(hosts, 5)).lookup(), at(...hosts))
  })

  if (fixture.failing) {
    const failing = fixture.failing.bind(fixture)
    s('a failing backend rejects with a retryable DISCOVERY_FAILED naming it', async () => {
      const d = await fixture.answering(['10.0.0.1'])
      failing(true)
      try {
        await d.lookup()
        assert.unreachable('lookup should fail')
      } catch (err) {
        assert.ok(isDiscoveryError(err, 'DISCOVERY_FAILED'), String(err))
        assert.is((err as { backend: string }).backend, fixture.backend)
        assert.ok((err as { retryable: boolean }).retryable)
      } finally {
        failing(false)
      }
    })

    s('bootstrap keeps asking a failing backend and decides once it answers', async () => {
      const d = await fixture.answering(['10.0.0.1', '10.0.0.2'])
      failing(true)
      const logged: string[] = []
      const self = { node: 'a', address: 'ws://a' }
      const decided = runBootstrap({
        self,
        discovery: d,
        // The contact at .1 is this node; .2 is in a cluster already.
        probe: async (c) => (c.host === '10.0.0.1' ? { ...self, members: [] } : { node: 'b', address: 'ws://b', members: [{ node: 'b', address: 'ws://b' }] }),
        clock: realClock,
        timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
        log: (level, msg) => logged.push(`${level} ${msg}`),
        tunables: resolveTunables({ lookupIntervalMs: 10, probeIntervalMs: 10, probeTimeoutMs: 500, probeFreshMs: 600, stableMarginMs: 700 }),
      })
      while (!logged.some((l) => l.startsWith('warn discovery failed'))) await new Promise((r) => setTimeout(r, 5))
      failing(false)
      assert.equal(await decided, { kind: 'join', seeds: [{ node: 'b', address: 'ws://b' }], via: `10.0.0.2:${fixture.port}` })
      assert.ok(logged.includes('info discovery answers again'), logged.join('\n'))
    })
  }

  s.run()
}
