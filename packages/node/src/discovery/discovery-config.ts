import type { SeedNode } from '@troupe/runtime'

/** Today's behaviour: the seeds are given; no lookup, no probing. */
export interface StaticDiscoveryConfig {
  readonly method: 'static'
  readonly seeds: readonly SeedNode[]
}

/**
 * A fixed list of contacts (`host:port` of each node's HTTP listener),
 * bootstrapped like the dynamic methods: every node can carry the same list
 * and none has to be named first.
 */
export interface ContactsDiscoveryConfig {
  readonly method: 'contacts'
  readonly contacts: readonly string[]
  readonly maxContacts?: number
}

/** Records of a (headless) service: A/AAAA with a configured port, or SRV (host + port). */
export interface DnsDiscoveryConfig {
  readonly method: 'dns'
  /** The name to resolve, e.g. `_http._tcp.troupe.default.svc.cluster.local` (SRV) or `troupe.default.svc.cluster.local`. */
  readonly name: string
  /** Default: 'A' when `port` is given, else 'SRV'. */
  readonly recordType?: 'A' | 'AAAA' | 'SRV'
  /** The HTTP port of every node (A/AAAA only; SRV records carry their own). */
  readonly port?: number
  /** DNS servers (`ip` or `ip:port`); default: the system's. */
  readonly servers?: readonly string[]
  /** Per-query timeout of the resolver (default 2000 ms). */
  readonly timeoutMs?: number
  /** Tries per query (default 2). */
  readonly tries?: number
  readonly maxContacts?: number
}

/** Pods of a label selector, listed through the Kubernetes API with the pod's service account. */
export interface KubernetesDiscoveryConfig {
  readonly method: 'kubernetes'
  /** e.g. `app=troupe` (sent as is in `?labelSelector=`). */
  readonly labelSelector: string
  /** Default: the service account's namespace file, else 'default'. */
  readonly namespace?: string
  /** Default: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`. */
  readonly apiUrl?: string
  /** Default: /var/run/secrets/kubernetes.io/serviceaccount/token (read again at every lookup: tokens rotate). */
  readonly tokenFile?: string
  /** Default: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt (https only). */
  readonly caFile?: string
  /** The named container port of the node's HTTP listener (default 'management'). */
  readonly portName?: string
  /** Whole-request timeout (default 5000 ms). */
  readonly timeoutMs?: number
  /** Largest response body accepted (default 16 MiB). */
  readonly maxBodyBytes?: number
  readonly maxContacts?: number
}

export type DiscoveryConfig = StaticDiscoveryConfig | ContactsDiscoveryConfig | DnsDiscoveryConfig | KubernetesDiscoveryConfig

/** Where the in-cluster service account is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
