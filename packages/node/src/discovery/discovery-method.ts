import type { Contact } from './contact.js'

/**
 * One way to find the other nodes. Every method answers with contacts that
 * are checked, deduplicated and sorted (`normalizeContacts`); an empty answer
 * is an answer (nobody there yet), not an error; a backend that fails
 * rejects with a DiscoveryError `DISCOVERY_FAILED` naming it. All methods run
 * one conformance suite (test/discovery-conformance.ts).
 */
export interface Discovery {
  /** What is asked ('dns', 'kubernetes', 'contacts'): named in errors and logs. */
  readonly backend: string
  lookup(signal?: AbortSignal): Promise<Contact[]>
}
