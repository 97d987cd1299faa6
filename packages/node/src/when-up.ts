// `whenUp({ members, timeoutMs })`: resolves once at least `members` nodes
// (this one included) are up in this node's view, Akka's min-nr-of-members.
// Rejects with UP_TIMEOUT after `timeoutMs`, with AUTH_FAILED (naming the
// peer) when a handshake is refused for a wrong secret, and with
// NODE_STOPPED when this node is removed, downed or shutting down first.
import type { Clock, Cluster } from '@troupe/runtime'
import type { AuthFailures } from './auth-failures.js'
import { invalid } from './config-check.js'
import { NodeError } from './node-error.js'

export interface WhenUpOptions {
  /** Up members to wait for, this node included (default 1: this node is up). */
  members?: number
  /** Give up after this many ms (default: wait as long as it takes). */
  timeoutMs?: number
}

export interface WhenUpEnv {
  cluster: Cluster
  clock: Clock
  auth: AuthFailures
  /** Non-null once shutdown started: why. */
  stopping(): string | null
  /** Subscribes to the start of shutdown; returns an unsubscribe. */
  onStopping(fn: () => void): () => void
}

export function whenUp(env: WhenUpEnv, options: WhenUpOptions = {}): Promise<string[]> {
  const want = options.members ?? 1
  if (!(Number.isInteger(want) && want >= 1)) return Promise.reject(invalid('whenUp.members', `must be an integer >= 1, got ${want}`))
  const timeoutMs = options.timeoutMs
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs >= 0)) return Promise.reject(invalid('whenUp.timeoutMs', `must be a number of ms >= 0, got ${timeoutMs}`))
  const { cluster, clock, auth } = env
  return new Promise((resolve, reject) => {
    const cleanups: Array<() => void> = []
    let done = false
    const finish = (err: NodeError | null): void => {
      if (done) return
      done = true
      for (const c of cleanups) c()
      if (err) reject(err)
      else resolve(cluster.upMembers())
    }
    const check = (): void => {
      const why = env.stopping()
      if (why !== null) return finish(new NodeError('NODE_STOPPED', `node ${cluster.self} is shutting down (${why})`))
      if (cluster.isTerminated) return finish(new NodeError('NODE_STOPPED', `node ${cluster.self} is ${cluster.status ?? 'stopped'}: it will not be up again in this run`))
      if (cluster.isUp && cluster.upMembers().length >= want) finish(null)
    }
    const onAuth = (peer: string, reason: string): void =>
      finish(new NodeError('AUTH_FAILED', `handshake with ${peer} refused: ${reason}. Is the cluster secret the same on both nodes?`, { subject: peer }))
    cluster.on('changed', check)
    cluster.on('selfDown', check)
    cluster.on('selfRemoved', check)
    cleanups.push(() => cluster.off('changed', check), () => cluster.off('selfDown', check), () => cluster.off('selfRemoved', check))
    cleanups.push(env.onStopping(check))
    cleanups.push(auth.on((f) => onAuth(f.peer, f.reason)))
    if (timeoutMs !== undefined) {
      const timer = clock.setTimer(timeoutMs, () =>
        finish(new NodeError('UP_TIMEOUT', `${cluster.upMembers().length} of ${want} members up after ${timeoutMs} ms (this node: ${cluster.status ?? 'joining'})`)),
      )
      cleanups.push(() => clock.clearTimer(timer))
    }
    if (auth.first && !cluster.isUp) return onAuth(auth.first.peer, auth.first.reason)
    check()
  })
}
