import { readdirSync, readFileSync } from 'node:fs'
import type { Metrics } from './metrics.ts'

/**
 * The `process_*` metrics every Prometheus client library exports (names and units as in
 * client_golang's process collector), and `hearth_build_info`. The `/proc` ones are left out of the
 * scrape where there is no `/proc` (the registry drops a metric whose reader throws).
 */
export function registerProcessMetrics(metrics: Metrics, build: { version: string; bun: string }): void {
  metrics.collect(
    'process_cpu_seconds_total',
    'user and system CPU time spent, in seconds',
    'counter',
    () => {
      const { user, system } = process.cpuUsage()
      return (user + system) / 1e6
    },
  )
  metrics.collect('process_resident_memory_bytes', 'resident memory size, in bytes', 'gauge', () =>
    process.memoryUsage.rss(),
  )
  metrics.collect(
    'process_virtual_memory_bytes',
    'virtual memory size, in bytes',
    'gauge',
    () => procStat().vsize,
  )
  metrics.collect(
    'process_open_fds',
    'open file descriptors',
    'gauge',
    () => readdirSync('/proc/self/fd').length,
  )
  metrics.collect('process_max_fds', 'the limit on open file descriptors', 'gauge', maxFds)
  // Fixed at start: a restart shows as a jump, which an uptime gauge would hide between scrapes.
  const started = performance.timeOrigin / 1000
  metrics.collect(
    'process_start_time_seconds',
    'when the process started, in seconds since the Unix epoch',
    'gauge',
    () => started,
  )
  metrics.collect(
    'hearth_build_info',
    'the running build: always 1, labelled with its versions',
    'gauge',
    () => [{ labels: { version: build.version, bun: build.bun }, value: 1 }],
  )
}

/** Fields of `/proc/self/stat` after the command name, which may itself hold spaces and parentheses. */
function procStat(): { vsize: number } {
  const text = readFileSync('/proc/self/stat', 'utf8')
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // proc(5): vsize is field 23; the slice starts at field 3 (state).
  return { vsize: Number(fields[20]) }
}

/** The soft limit of `Max open files` in `/proc/self/limits`. */
function maxFds(): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
  if (!soft) throw new Error('no Max open files in /proc/self/limits')
  return soft === 'unlimited' ? Number.POSITIVE_INFINITY : Number(soft)
}
