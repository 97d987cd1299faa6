// @troupe/node: a node in one call. `startNode(config)` wires the actor
// system, transport, cluster and services in the right order and returns a
// handle with `whenUp` and a coordinated `shutdown`.
export { startNode, EXIT_DOWNED } from './start-node.js'
export type { TroupeNode, NodeReadiness, NodeHttpHandle, ShutdownOptions } from './troupe-node.js'
export type {
  NodeConfig, HttpConfig, OperatorToken, ServicesConfig, ShardingServiceConfig, LeaseServiceConfig, SagaServiceConfig,
  ShutdownPhaseName, ShutdownTimeouts, NodeLog, NodeLogLevel, SeedNode,
} from './node-config.js'
export { DEFAULT_SHUTDOWN_TIMEOUTS } from './config-check.js'
export { SHUTDOWN_PHASES } from './node-shutdown.js'
export type { PhaseReport, ShutdownTask } from './coordinated-shutdown.js'
export type { WhenUpOptions } from './when-up.js'
export type { RouteAccess, RouteContext, RouteHandler, RouteOptions, OperatorRole } from './node-http.js'
export type { NodeGroupOptions, GroupOf } from './raft-service.js'
export { bootstrapRoute, bootstrapSeeds, createDiscovery, DiscoveryError, DiscoveryErrorCode, isDiscoveryError, BOOTSTRAP_PATH } from './discovery/index.js'
export type { DiscoveryConfig, StaticDiscoveryConfig, ContactsDiscoveryConfig, DnsDiscoveryConfig, KubernetesDiscoveryConfig, ProbeAnswer, BootstrapInput } from './discovery/index.js'
export { NodeError, NodeErrorCode, isNodeError } from './node-error.js'
export { configFromEnv, configFromFile, ENV_VARS } from './config-sources.js'
