// Registers the cluster scenarios with `pnpm sim` (which discovers packages/*/test/*.scenario.ts).
import { clusterFaults } from '../src/sim/scenarios/cluster-faults.js'

export const scenarios = [clusterFaults]
