// @troupe/raft/testing: helpers for tests, here and in other packages.
// The LogStorage conformance suite every storage implementation runs (uvu).
export { storageConformance, entry, entries, snapshotAt, render } from './testing/storage-conformance.js'
export type { StorageHarness } from './testing/storage-conformance.js'
