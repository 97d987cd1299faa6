// One node of the starter app:
//   node --import tsx src/node.ts --name a --port 7301 --http 8301 \
//     --seeds a=ws://127.0.0.1:7301,b=ws://127.0.0.1:7302,c=ws://127.0.0.1:7303
// (`npm start` runs three). Any TROUPE_* variable (see @troupe/node) overrides.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { configFromEnv, startNode } from '@troupe/node'
import { Counter, Kv, signupSaga } from './app.js'
import type { KvGroup } from './app.js'

const { values: arg } = parseArgs({ options: { name: { type: 'string' }, port: { type: 'string' }, http: { type: 'string' }, seeds: { type: 'string' }, data: { type: 'string' } } })
const name = arg.name ?? 'a'
const port = Number(arg.port ?? 7301)
const seeds = (arg.seeds ?? `${name}=ws://127.0.0.1:${port}`).split(',').map((s) => s.split('=')).map(([node, address]) => ({ node: node!, address: address! }))
if (!process.env.TROUPE_SECRET) console.log(`[${name}] using a development secret: set TROUPE_SECRET (16+ bytes, the same on every node) anywhere else`)

// Saga steps may run as soon as the node starts (recovery), so they wait for the kv group to open.
let openedKv!: (group: KvGroup) => void
const kvGroup = new Promise<KvGroup>((resolve) => (openedKv = resolve))
const signup = signupSaga(() => kvGroup, (id) => node.sharding.entity(Counter, id))

const node = await startNode(
  configFromEnv(process.env, {
    name,
    listen: { host: '127.0.0.1', port },
    http: { host: '127.0.0.1', port: Number(arg.http ?? 8301) },
    secret: 'starter-development-secret-only',
    seeds,
    dataDir: arg.data ?? fileURLToPath(new URL(`../.data/${name}`, import.meta.url)),
    services: { sharding: { entities: [Counter] }, sagas: { definitions: [signup] } },
  }),
)
const kv = await node.raft.group({ id: 'kv', stateMachine: () => new Kv() })
openedKv(kv)

// The app's HTTP API on the node's one listener. Open to anyone: add auth before you expose it.
const api = (method: string, path: string, handler: (q: URLSearchParams, body: string) => Promise<unknown>) =>
  node.http.route(method, path, async (req: IncomingMessage, res: ServerResponse) => {
    let body = ''
    for await (const chunk of req) body += chunk
    const [status, answer] = await handler(new URL(req.url!, 'http://x').searchParams, body).then(
      (value) => [200, value],
      (err: Error & { code?: string; status?: number }) => [err.status ?? 503, { error: err.code ?? 'FAILED', message: err.message }],
    )
    res.writeHead(status as number, { 'content-type': 'application/json' }).end(JSON.stringify(answer))
  }, { access: 'anonymous' })
const param = (q: URLSearchParams, key: string): string => {
  const value = q.get(key)
  if (!value) throw Object.assign(new Error(`missing ?${key}=`), { status: 400, code: 'BAD_REQUEST' })
  return value
}

api('POST', '/counter', async (q) => ({ id: param(q, 'id'), count: await node.sharding.entity(Counter, param(q, 'id')).ask('add', 1) }))
api('PUT', '/kv', async (q, body) => ({ key: param(q, 'key'), ok: await kv.propose({ op: 'put', key: param(q, 'key'), value: body }) }))
api('GET', '/kv', async (q) => ({ key: param(q, 'key'), value: await kv.read(param(q, 'key')) }))
api('POST', '/signup', async (q) => {
  const { status, id } = await node.sagas.run(signup, { name: param(q, 'name'), failAtTheEnd: q.has('fail') })
  return { status, id }
})

const members = await node.whenUp({ members: seeds.length })
console.log(`[${name}] ready ${node.http.url} members=${members.join(',')}`)
