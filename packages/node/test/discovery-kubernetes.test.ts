// Kubernetes discovery against a fake API server over HTTP: the bearer token
// from the token file, the namespaced pod-list path with the label selector,
// only Running + Ready pods with an IP and the named port; 401/403 and
// garbage bodies are typed errors; the in-cluster defaults come from the
// environment and the service account files.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { KubernetesDiscovery } from '../src/discovery/kubernetes-discovery.js'
import { isDiscoveryError } from '../src/discovery/discovery-error.js'
import { podContacts } from '../src/discovery/pod-list.js'
import { discoveryConformance } from './discovery-conformance.js'
import { FakeKubernetesApi } from './discovery-fake-kubernetes.js'

const dir = mkdtempSync(join(tmpdir(), 'troupe-k8s-'))
const tokenFile = join(dir, 'token')
writeFileSync(tokenFile, 'test-token\n')

let api: FakeKubernetesApi
const discovery = (config: Partial<ConstructorParameters<typeof KubernetesDiscovery>[0]> = {}) =>
  new KubernetesDiscovery({ labelSelector: 'app=troupe,tier in (a,b)', namespace: api.namespace, apiUrl: api.url, tokenFile, timeoutMs: 2000, ...config })

discoveryConformance('kubernetes', {
  backend: 'kubernetes',
  port: 8558,
  dynamic: true,
  setUp: async () => {
    api = await FakeKubernetesApi.start()
  },
  tearDown: () => api.close(),
  answering: async (hosts, maxContacts) => {
    api.setPods(hosts)
    return discovery(maxContacts !== undefined ? { maxContacts } : {})
  },
  failing: (on) => {
    api.fail = on ? { status: 500, message: 'etcd is sad' } : null
  },
})

test.before(async () => {
  api = await FakeKubernetesApi.start()
})
test.after(async () => {
  await api.close()
  rmSync(dir, { recursive: true, force: true })
})

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p
    assert.unreachable('should reject')
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'DISCOVERY_FAILED'), String(err))
    assert.match((err as Error).message, pattern)
  }
}

test('sends the bearer token to the namespaced pod-list path with the label selector', async () => {
  api.setPods(['10.1.0.1'])
  await discovery().lookup()
  const r = api.requests.at(-1)!
  assert.equal(r, { path: '/api/v1/namespaces/troupe-test/pods', labelSelector: 'app=troupe,tier in (a,b)', authorization: 'Bearer test-token' })
})

test('only Running, Ready, not terminating pods with an IP, at the named port', async () => {
  api.pods = [
    { ip: '10.1.0.1' },
    { ip: '10.1.0.2', phase: 'Pending' },
    { ip: '10.1.0.3', ready: false },
    { ip: '10.1.0.4', terminating: true },
    { phase: 'Running' },
    { ip: '10.1.0.6', ports: { http: 8080 } },
    { ip: '10.1.0.7', ports: { http: 8080, management: 9001 } },
  ]
  assert.equal(await discovery().lookup(), [
    { host: '10.1.0.1', port: 8558 },
    { host: '10.1.0.7', port: 9001 },
  ])
  assert.equal(await discovery({ portName: 'http' }).lookup(), [
    { host: '10.1.0.6', port: 8080 },
    { host: '10.1.0.7', port: 8080 },
  ])
})

test('401 and 403 are DISCOVERY_FAILED with the status and the API message', async () => {
  writeFileSync(tokenFile, 'wrong-token')
  await rejects(discovery().lookup(), /answered 401: Unauthorized/)
  writeFileSync(tokenFile, 'test-token')
  api.fail = { status: 403, message: 'pods is forbidden: User "system:serviceaccount:troupe-test:default" cannot list resource "pods"' }
  await rejects(discovery().lookup(), /answered 403: pods is forbidden/)
  api.fail = null
})

test('garbage bodies, non-PodLists and oversized answers are DISCOVERY_FAILED', async () => {
  for (const body of ['<html>oops</html>', '{"kind":"Status"}', '[]', '{"kind":"PodList","items":[3]}', '{"kind":"PodList","items"']) {
    api.fail = { body }
    await rejects(discovery().lookup(), /kubernetes: the (answer is not a PodList|pod list is not JSON|.*item is not an object)|PodList item/)
  }
  api.fail = null
  api.setPods(Array.from({ length: 50 }, (_, i) => `10.2.0.${i}`))
  await rejects(discovery({ maxBodyBytes: 1024 }).lookup(), /larger than 1024 bytes/)
})

test('a missing token file, a refused connection and an abort are DISCOVERY_FAILED', async () => {
  await rejects(discovery({ tokenFile: join(dir, 'absent') }).lookup(), /cannot read the service account token/)
  await rejects(discovery({ apiUrl: 'http://127.0.0.1:1' }).lookup(), /failed/)
  const controller = new AbortController()
  controller.abort()
  await rejects(discovery().lookup(controller.signal), /failed/)
})

test('in-cluster defaults: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the CA file; no host is a config error', async () => {
  const d = new KubernetesDiscovery({ labelSelector: 'app=x', tokenFile, caFile: join(dir, 'absent-ca') }, { env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1' } })
  await rejects(d.lookup(), /cannot read the service account CA certificate/)
  try {
    new KubernetesDiscovery({ labelSelector: 'app=x' }, { env: {} })
    assert.unreachable()
  } catch (err) {
    assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'))
  }
  for (const bad of [{ labelSelector: '' }, { labelSelector: 'a=b', namespace: 'Not_A_Namespace' }, { labelSelector: 'a=b', apiUrl: 'ftp://x' }]) {
    try {
      new KubernetesDiscovery(bad, { env: { KUBERNETES_SERVICE_HOST: 'h' } })
      assert.unreachable(JSON.stringify(bad))
    } catch (err) {
      assert.ok(isDiscoveryError(err, 'INVALID_DISCOVERY_CONFIG'), String(err))
    }
  }
})

test('podContacts ignores malformed parts of a pod it can still read', () => {
  const r = podContacts({ kind: 'PodList', items: [{ status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] }, spec: { containers: 'x' } }] }, 'management')
  assert.equal(r, { contacts: [], skipped: { 'no port management': 1 } })
})

test.run()
