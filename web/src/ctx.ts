import type { MeView } from '../../src/protocol.ts'
import type { Api } from './api.ts'
import type { Live } from './live.ts'
import type { MetricsSampler } from './metrics.ts'
import type { RecentEvents } from './recent.ts'

/** What every page gets: the API, the live channel, who is logged in, and the status line. */
export interface Ctx {
  api: Api
  live: Live
  me: MeView
  metrics: MetricsSampler
  /** Events since login (and the snapshot's), oldest first. */
  recent: RecentEvents
  /** May change things (admin); viewers get read-only pages. */
  canWrite: boolean
  /** Announces a result in the polite live region (and shows it). */
  notify(text: string, kind?: 'ok' | 'error'): void
  /** Runs `fn`; a failure is announced as "<what> failed: …" and yields undefined. */
  attempt<T>(what: string, fn: () => Promise<T>): Promise<T | undefined>
  navigate(hash: string): void
}

/** A mounted page: its element, and what to release when the user leaves it. */
export interface Page {
  title: string
  el: HTMLElement
  dispose?(): void
}

export type PageFactory = (ctx: Ctx, params: string[]) => Page

/** Collects unsubscribe functions and timers for a page's `dispose`. */
export function disposer() {
  const fns: Array<() => void> = []
  return {
    add(fn: () => void) {
      fns.push(fn)
    },
    interval(fn: () => void, ms: number) {
      const t = window.setInterval(fn, ms)
      fns.push(() => clearInterval(t))
    },
    dispose() {
      for (const fn of fns.splice(0)) fn()
    },
  }
}
