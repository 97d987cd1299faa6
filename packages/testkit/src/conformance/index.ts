// The contracts every implementation of an interface keeps, as uvu suites
// (uvu is the caller's): run them against your own Disk or Transport.
export { diskConformance } from './disk-suite.js'
export { transportConformance } from './transport-suite.js'
export type { TransportCluster, TransportSuiteOptions } from './transport-suite.js'
