// pnpm sim [--seeds N] [--first S] [--scenario NAME] [--module FILE]... [--verbose]
//
// Runs simulation scenarios over many seeds and reports every failing seed
// with its one-line replay command; exits non-zero if any seed failed.
// SIM_SEED=<n> runs just that seed. Scenarios: the testkit's own, plus every
// `packages/*/test/*.scenario.ts` (exporting `scenario` or `scenarios`), plus
// any --module file.
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { runSeeds } from '../sim/scenario.js'
import type { Scenario, SeedOutcome } from '../sim/scenario.js'
import { actorChatter } from '../sim/scenarios/actor-chatter.js'
import { envSeed, parseSeed } from '../sim/seeds.js'
import { SimError } from '../sim/sim-error.js'

const BUILT_IN: Scenario[] = [actorChatter]
const MAX_REPORTED_FAILURES = 20
/** More seeds than this in one run is a typo, not a plan (a million seeds is days of work). */
const MAX_SEEDS = 1_000_000

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..')

const USAGE = `usage: pnpm sim [--seeds N] [--first S] [--scenario NAME]... [--module FILE]... [--verbose] [--list]
       SIM_SEED=<n> pnpm sim --scenario NAME   replays one seed

  --seeds N          how many seeds to run per scenario (1..${MAX_SEEDS}, default 100)
  --first S          the first seed (a safe integer, default 1)
  --scenario NAME    run only this scenario (repeatable; --list shows them)
  --module FILE      also load the scenarios FILE exports (repeatable)
  --verbose, -v      one line per passing seed
  --list             list the scenarios and exit
  --help, -h         this text`

/** A command line the CLI cannot run: printed with the usage, exit code 2. */
class UsageError extends Error {
  override readonly name = 'UsageError'
}

interface Options {
  seeds: number[]
  scenarios: string[]
  modules: string[]
  verbose: boolean
  list: boolean
  help: boolean
}

/** Reads the command line and SIM_SEED; throws a UsageError for anything it cannot run. */
function parseOptions(argv: string[]): Options {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        seeds: { type: 'string', default: '100' },
        first: { type: 'string', default: '1' },
        scenario: { type: 'string', multiple: true },
        module: { type: 'string', multiple: true },
        verbose: { type: 'boolean', short: 'v', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }))
  } catch (err) {
    // node:util's parse errors (unknown option, missing value, positional) say what was wrong.
    throw new UsageError(errorText(err))
  }
  const count = integerArg(values.seeds!, '--seeds')
  if (count < 1 || count > MAX_SEEDS) throw new UsageError(`--seeds must be between 1 and ${MAX_SEEDS}, got ${count}`)
  const first = integerArg(values.first!, '--first')
  if (count - 1 > Number.MAX_SAFE_INTEGER - first) throw new UsageError(`--first ${first} with --seeds ${count} passes the largest safe integer`)
  const replay = seedOrUsage(() => envSeed())
  const modules = values.module ?? []
  for (const m of modules) if (!existsSync(resolve(m))) throw new UsageError(`--module ${m}: no such file`)
  return {
    seeds: replay !== undefined ? [replay] : Array.from({ length: count }, (_, i) => first + i),
    scenarios: values.scenario ?? [],
    modules,
    verbose: values.verbose!,
    list: values.list!,
    help: values.help!,
  }
}

function integerArg(raw: string, what: string): number {
  return seedOrUsage(() => parseSeed(raw, what))
}

/** A SimError BAD_SEED from the seed parser is a usage error here. */
function seedOrUsage<T>(read: () => T): T {
  try {
    return read()
  } catch (err) {
    if (err instanceof SimError && err.code === 'BAD_SEED') throw new UsageError(err.message)
    throw err
  }
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv)
  if (options.help) {
    console.log(USAGE)
    return 0
  }
  const all = await loadScenarios(options.modules)
  if (options.list) {
    for (const s of all) console.log(`${s.name.padEnd(24)} ${s.description}`)
    return 0
  }
  const unknown = options.scenarios.filter((name) => !all.some((s) => s.name === name))
  if (unknown.length > 0) throw new UsageError(`unknown scenario(s): ${unknown.join(', ')}; known: ${all.map((s) => s.name).join(', ')}`)
  const chosen = options.scenarios.length > 0 ? all.filter((s) => options.scenarios.includes(s.name)) : all

  let failed = 0
  for (const scenario of chosen) failed += await runScenario(scenario, options.seeds, options.verbose)
  console.log(failed > 0 ? `\n${failed} failing seed(s)` : '\nall seeds passed')
  return failed > 0 ? 1 : 0
}

async function runScenario(scenario: Scenario, seeds: number[], verbose: boolean): Promise<number> {
  console.log(`== ${scenario.name}: ${seeds.length} seed(s) from ${seeds[0]}`)
  const started = performance.now()
  let events = 0
  let virtualMs = 0
  const failures: SeedOutcome[] = []
  await runSeeds(scenario, seeds, {
    onOutcome: (o) => {
      if (o.error !== undefined) {
        failures.push(o)
        if (failures.length <= MAX_REPORTED_FAILURES) console.log(`FAIL seed ${o.seed} (${o.wallMs.toFixed(0)} ms)\n${indent(errorText(o.error))}`)
        return
      }
      events += o.result!.events
      virtualMs += o.result!.virtualMs
      if (verbose) console.log(`ok   seed ${o.seed}: trace ${o.result!.traceHash}, ${o.result!.events} events, ${o.wallMs.toFixed(0)} ms`)
    },
  })
  const wallS = (performance.now() - started) / 1000
  const passed = seeds.length - failures.length
  console.log(
    `${scenario.name}: ${passed}/${seeds.length} passed in ${wallS.toFixed(1)} s` +
      ` (${(events / wallS).toFixed(0)} events/s, ${(virtualMs / 1000 / wallS).toFixed(1)} virtual s per wall s)`,
  )
  if (failures.length > 0) console.log(`failing seeds: ${failures.map((f) => f.seed).join(' ')}`)
  if (failures.length > MAX_REPORTED_FAILURES) console.log(`(details shown for the first ${MAX_REPORTED_FAILURES})`)
  return failures.length
}

async function loadScenarios(modules: string[]): Promise<Scenario[]> {
  const files = [...discover(), ...modules.map((m) => resolve(m))]
  const found: Scenario[] = [...BUILT_IN]
  for (const file of files) {
    const mod = (await import(pathToFileURL(file).href)) as { scenario?: Scenario; scenarios?: Scenario[] }
    const list = [...(mod.scenarios ?? []), ...(mod.scenario ? [mod.scenario] : [])]
    if (list.length === 0) console.warn(`warning: ${file} exports no 'scenario' or 'scenarios'`)
    for (const s of list) {
      if (found.some((f) => f.name === s.name)) throw new Error(`two scenarios are named '${s.name}' (${file})`)
      found.push(s)
    }
  }
  return found
}

/** `packages/*\/test/*.scenario.ts` under the repository root. */
function discover(): string[] {
  const packages = join(repoRoot, 'packages')
  if (!existsSync(packages)) return []
  const files: string[] = []
  for (const pkg of readdirSync(packages).sort()) {
    const testDir = join(packages, pkg, 'test')
    if (!existsSync(testDir)) continue
    for (const f of readdirSync(testDir).sort()) if (f.endsWith('.scenario.ts')) files.push(join(testDir, f))
  }
  return files
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    if (err instanceof UsageError) console.error(`pnpm sim: ${err.message}\n\n${USAGE}`)
    else console.error(err)
    process.exitCode = 2
  },
)
