import type { Contact } from './contact.js'
import { DiscoveryError } from './discovery-error.js'

/** What a PodList answer yields: the contacts, and why pods were left out (for the log). */
export interface PodContacts {
  readonly contacts: Contact[]
  /** Pods skipped, by reason ('not running', 'not ready', 'no ip', 'terminating', 'no port <name>'). */
  readonly skipped: Record<string, number>
}

/**
 * The contacts in a Kubernetes PodList: each pod that is Running, Ready, not
 * terminating and has an IP, at its container port named `portName`. A body
 * that is not a PodList is a DISCOVERY_FAILED.
 */
export function podContacts(body: unknown, portName: string): PodContacts {
  if (!isObject(body) || !Array.isArray(body.items) || (body.kind !== undefined && body.kind !== 'PodList')) {
    throw new DiscoveryError('DISCOVERY_FAILED', 'kubernetes', 'the answer is not a PodList')
  }
  const contacts: Contact[] = []
  const skipped: Record<string, number> = {}
  const skip = (why: string) => {
    skipped[why] = (skipped[why] ?? 0) + 1
  }
  for (const pod of body.items) {
    if (!isObject(pod)) throw new DiscoveryError('DISCOVERY_FAILED', 'kubernetes', 'a PodList item is not an object')
    const metadata = isObject(pod.metadata) ? pod.metadata : {}
    const status = isObject(pod.status) ? pod.status : {}
    if (metadata.deletionTimestamp !== undefined && metadata.deletionTimestamp !== null) skip('terminating')
    else if (status.phase !== 'Running') skip('not running')
    else if (!isReady(status.conditions)) skip('not ready')
    else if (typeof status.podIP !== 'string' || status.podIP.length === 0) skip('no ip')
    else {
      const port = namedPort(pod.spec, portName)
      if (port === undefined) skip(`no port ${portName}`)
      else contacts.push({ host: status.podIP, port })
    }
  }
  return { contacts, skipped }
}

function isReady(conditions: unknown): boolean {
  return Array.isArray(conditions) && conditions.some((c) => isObject(c) && c.type === 'Ready' && c.status === 'True')
}

function namedPort(spec: unknown, portName: string): number | undefined {
  if (!isObject(spec) || !Array.isArray(spec.containers)) return undefined
  for (const container of spec.containers) {
    if (!isObject(container) || !Array.isArray(container.ports)) continue
    for (const p of container.ports) {
      if (isObject(p) && p.name === portName && typeof p.containerPort === 'number') return p.containerPort
    }
  }
  return undefined
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
