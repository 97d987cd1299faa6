// Registers the cluster scenarios with `pnpm sim` (which discovers packages/*/test/*.scenario.ts).
import { clusterFaults } from '../src/sim/scenarios/cluster-faults.js'
import { clusterHandoff } from '../src/sim/scenarios/cluster-handoff.js'

export const scenarios = [clusterFaults, clusterHandoff]
