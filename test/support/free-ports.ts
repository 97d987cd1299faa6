// Fixed port ranges for tests of tools that take a base port (node a on
// base, b on base + 1, ...) rather than port 0.
import { createServer } from 'node:net'

/** A base port with `count` free consecutive loopback ports from it (each checked by binding it). */
export async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000)
    const free = await Promise.all(Array.from({ length: count }, (_, i) => canBind(base + i)))
    if (free.every(Boolean)) return base
  }
  throw new Error(`no ${count} free consecutive ports found`)
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
