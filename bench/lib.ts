// Shared helpers for benchmarks: trials, medians, and the output contract
// (a human table, or one JSON object per figure with --json).

export interface Figure {
  bench: string
  metric: string
  value: number
  unit: string
  /** 'rate' figures: higher is better; 'latency' figures: lower is better. */
  kind: 'rate' | 'latency' | 'size'
  baseline: string | null
  baselineValue: number | null
}

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** One warm-up, then `n` measured runs; returns the median. */
export async function medianOf(fn: () => Promise<number> | number, n = 3): Promise<number> {
  await fn()
  const runs: number[] = []
  for (let i = 0; i < n; i++) runs.push(await fn())
  return median(runs)
}

/** Closed loop: `total` ops with `window` in flight; rate (ops/s) and latency percentiles (ms). */
export async function closedLoop(total: number, window: number, op: (i: number) => Promise<unknown>): Promise<{ rate: number; p50: number; p99: number }> {
  const lat = new Float64Array(total)
  let next = 0
  const t0 = nowMs()
  const worker = async () => {
    while (next < total) {
      const i = next++
      const s = nowMs()
      await op(i)
      lat[i] = nowMs() - s
    }
  }
  await Promise.all(Array.from({ length: Math.min(window, total) }, worker))
  const secs = (nowMs() - t0) / 1000
  lat.sort()
  return { rate: total / secs, p50: percentile(lat, 50), p99: percentile(lat, 99) }
}

export function ratio(f: Figure): number | null {
  if (f.baselineValue === null || f.baselineValue === 0 || f.value === 0) return null
  return f.kind === 'latency' ? f.baselineValue / f.value : f.value / f.baselineValue
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(3))

export function report(figures: Figure[], json: boolean): void {
  for (const f of figures) {
    const r = ratio(f)
    if (json) {
      console.log(
        JSON.stringify({ bench: f.bench, metric: f.metric, value: round(f.value), unit: f.unit, baseline: f.baseline, baselineValue: f.baselineValue === null ? null : round(f.baselineValue), ratio: r === null ? null : round(r) }),
      )
    } else {
      const base = f.baseline === null ? '' : `  vs ${f.baseline}: ${fmt(f.baselineValue!)}  ratio ${r === null ? '-' : r.toFixed(3)}`
      console.log(`${`${f.bench} ${f.metric}`.padEnd(40)} ${fmt(f.value).padStart(14)} ${f.unit}${base}`)
    }
  }
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000
}

/**
 * A bench file run on its own (`node ... bench/<file>`): when `file` is the
 * script Node started, runs the bench with the command line's words, prints
 * its figures (one JSON object each with `--json`) and exits (1 on a failure).
 */
export function runWhenMain(file: string, run: (args: string[]) => Promise<Figure[]>): void {
  if (!process.argv[1]?.endsWith(file)) return
  const args = process.argv.slice(2)
  run(args).then(
    (figures) => {
      report(figures, args.includes('--json'))
      process.exit(0)
    },
    (err) => {
      console.error(err)
      process.exit(1)
    },
  )
}
