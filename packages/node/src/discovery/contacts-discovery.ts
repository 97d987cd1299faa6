import { DEFAULT_MAX_CONTACTS, normalizeContacts, parseContact } from './contact.js'
import type { Contact } from './contact.js'
import { DiscoveryError } from './discovery-error.js'
import type { ContactsDiscoveryConfig } from './discovery-config.js'
import type { Discovery } from './discovery-method.js'

/** A fixed list of contacts from the config. */
export class ContactsDiscovery implements Discovery {
  readonly backend = 'contacts'
  private readonly contacts: Contact[]

  constructor(config: Pick<ContactsDiscoveryConfig, 'contacts' | 'maxContacts'>) {
    const max = config.maxContacts ?? DEFAULT_MAX_CONTACTS
    const parsed = config.contacts.map((c) => parseContact(this.backend, c))
    try {
      this.contacts = normalizeContacts(this.backend, parsed, max)
    } catch (err) {
      throw new DiscoveryError('INVALID_DISCOVERY_CONFIG', this.backend, `more than ${max} contacts configured (maxContacts)`, { cause: err })
    }
  }

  async lookup(): Promise<Contact[]> {
    return this.contacts.map((c) => ({ ...c }))
  }
}
