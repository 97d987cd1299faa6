// A fake Kubernetes API server over HTTP on 127.0.0.1 port 0: it checks the
// bearer token and the pod-list path, and answers with the pods the test
// sets, a status code, or a garbage body.
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakePod {
  ip?: string
  phase?: string
  ready?: boolean
  terminating?: boolean
  /** Named container ports (default { management: 8558 }). */
  ports?: Record<string, number>
}

export class FakeKubernetesApi {
  pods: FakePod[] = []
  /** Overrides the answer: a status with a Status body, or a raw body. */
  fail: { status: number; message: string } | { body: string } | null = null
  readonly requests: Array<{ path: string; labelSelector: string | null; authorization: string | undefined }> = []

  private constructor(
    private readonly server: Server,
    readonly token: string,
    readonly namespace: string,
  ) {}

  static async start(token = 'test-token', namespace = 'troupe-test'): Promise<FakeKubernetesApi> {
    let api: FakeKubernetesApi | null = null
    const server = createServer((req, res) => api!.handle(req.url ?? '', req.headers.authorization, (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(body)
    }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    api = new FakeKubernetesApi(server, token, namespace)
    return api
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  setPods(ips: string[], port = 8558): void {
    this.pods = ips.map((ip) => ({ ip, ports: { management: port } }))
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  private handle(rawUrl: string, authorization: string | undefined, reply: (status: number, body: string) => void): void {
    const url = new URL(rawUrl, 'http://x')
    this.requests.push({ path: url.pathname, labelSelector: url.searchParams.get('labelSelector'), authorization })
    if (authorization !== `Bearer ${this.token}`) return reply(401, status(401, 'Unauthorized'))
    if (url.pathname !== `/api/v1/namespaces/${this.namespace}/pods`) return reply(404, status(404, `no route ${url.pathname}`))
    if (this.fail !== null) return 'body' in this.fail ? reply(200, this.fail.body) : reply(this.fail.status, status(this.fail.status, this.fail.message))
    reply(200, JSON.stringify({ kind: 'PodList', apiVersion: 'v1', items: this.pods.map((p, i) => pod(p, i)) }))
  }
}

function pod(p: FakePod, i: number): object {
  return {
    metadata: { name: `troupe-${i}`, labels: { app: 'troupe' }, ...(p.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { containers: [{ name: 'app', ports: Object.entries(p.ports ?? { management: 8558 }).map(([name, containerPort]) => ({ name, containerPort, protocol: 'TCP' })) }] },
    status: {
      phase: p.phase ?? 'Running',
      ...(p.ip ? { podIP: p.ip, podIPs: [{ ip: p.ip }] } : {}),
      conditions: [{ type: 'Ready', status: p.ready === false ? 'False' : 'True' }],
    },
  }
}

function status(code: number, message: string): string {
  return JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, code })
}
