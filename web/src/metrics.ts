/** One scrape of `/metrics`: `name{labels}` → value. */
export type Scrape = Map<string, number>

export interface Sample {
  t: number
  values: Scrape
}

export interface MetricsSampler {
  /** Samples taken since login, at most an hour of them, oldest first. */
  readonly history: readonly Sample[]
  readonly latest: Sample | undefined
  onSample(fn: (s: Sample) => void): () => void
  /** Scrapes now (also done every `intervalMs`). */
  refresh(): Promise<void>
  stop(): void
}

/** Parses the Prometheus text format (the lines we need: `name{labels} value`). */
export function parseMetrics(text: string): Scrape {
  const out: Scrape = new Map()
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    const v = Number(line.slice(i + 1))
    if (Number.isFinite(v)) out.set(line.slice(0, i), v)
  }
  return out
}

/** The value of a metric, summed over its label sets (or one label set: `name{state="dead"}`). */
export function metric(s: Scrape | undefined, name: string): number {
  if (!s) return 0
  if (s.has(name)) return s.get(name) ?? 0
  let sum = 0
  for (const [k, v] of s) if (k.startsWith(`${name}{`)) sum += v
  return sum
}

/**
 * Samples the hub's `/metrics` while the console is open, so the overview can draw message rates
 * over the last hour of this session (the hub itself keeps only the last minute's load).
 */
export function createMetricsSampler(opts: { intervalMs?: number; keepMs?: number } = {}): MetricsSampler {
  const interval = opts.intervalMs ?? 10_000
  const keep = opts.keepMs ?? 3_600_000
  const history: Sample[] = []
  const subs = new Set<(s: Sample) => void>()
  let timer: number | undefined

  const refresh = async () => {
    try {
      const res = await fetch('/metrics', { credentials: 'same-origin' })
      if (!res.ok) return
      const s = { t: Date.now(), values: parseMetrics(await res.text()) }
      history.push(s)
      while (history.length && s.t - (history[0]?.t ?? s.t) > keep) history.shift()
      for (const fn of subs) fn(s)
    } catch {
      // The hub is restarting or the network blinked: the next tick tries again.
    }
  }
  void refresh()
  timer = window.setInterval(() => void refresh(), interval)

  return {
    history,
    get latest() {
      return history[history.length - 1]
    },
    onSample(fn) {
      subs.add(fn)
      return () => {
        subs.delete(fn)
      }
    },
    refresh,
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}

/** Per-minute rate of a counter between consecutive samples: `[times s, rates]` for a chart. */
export function rates(history: readonly Sample[], name: string): [number[], number[]] {
  const xs: number[] = []
  const ys: number[] = []
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1]!
    const b = history[i]!
    const dt = (b.t - a.t) / 60_000
    if (dt <= 0) continue
    xs.push(b.t / 1000)
    ys.push(Math.max(0, (metric(b.values, name) - metric(a.values, name)) / dt))
  }
  return [xs, ys]
}
