import { ContactsDiscovery } from './contacts-discovery.js'
import type { DiscoveryConfig } from './discovery-config.js'
import { DiscoveryError } from './discovery-error.js'
import type { Discovery } from './discovery-method.js'
import { DnsDiscovery } from './dns-discovery.js'
import { KubernetesDiscovery } from './kubernetes-discovery.js'
import type { KubernetesDiscoveryDeps } from './kubernetes-discovery.js'

/** The lookup of a dynamic discovery config; static seeds have none (they are the answer). */
export function createDiscovery(config: Exclude<DiscoveryConfig, { method: 'static' }>, deps: KubernetesDiscoveryDeps = {}): Discovery {
  const method = (config as { method?: unknown }).method
  switch (config.method) {
    case 'contacts':
      return new ContactsDiscovery(config)
    case 'dns':
      return new DnsDiscovery(config)
    case 'kubernetes':
      return new KubernetesDiscovery(config, deps)
    default:
      throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', 'config', `unknown discovery method ${JSON.stringify(method)} (static, contacts, dns, kubernetes)`)
  }
}
