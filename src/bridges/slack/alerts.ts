import type { Bus } from '../../bus/bus.ts'
import type { SlackAlert } from './blocks.ts'
import type { Severity, SlackConfig } from './config.ts'
import { SLACK_KIND } from './dispatcher.ts'

interface AlertSourcesOptions {
  bus: Bus
  config: SlackConfig['alerts']
  post(alert: SlackAlert): void
  now: () => number
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 }
const OWNER = 'slack-alerts'

interface Incident {
  lastFailureAt: number
  restartedAt: number | undefined
  failures: number
}

interface Failing {
  dead: number
  lastReason: string | undefined
  circuitOpen: boolean
  /** A poller's error, when it started failing in this window. */
  pollError?: string
}

/** A poller's bridge name, as `/api/v1/bridges` lists it: the schedule's id, or the rule's source. */
const pollerName = (source: string) => source.replace(/^schedule:/, '')

/**
 * The hub's trouble as Slack alerts: a supervised service failing is one
 * message per incident (not one per retry); dead letters and open circuits of the other bridges
 * are gathered for `summaryWindow` into one summary; `alert` events at or above `minSeverity`
 * pass as they are. Slack's own failures never alert Slack.
 */
export function createAlertSources(opts: AlertSourcesOptions): { start(): void; stop(): void } {
  const { bus, config, now } = opts
  const incidents = new Map<string, Incident>()
  const failing = new Map<string, Failing>()
  // Pollers whose last poll failed: alerted once when they start failing, again after a success.
  const pollersDown = new Set<string>()
  let summaryTimer: ReturnType<typeof setTimeout> | undefined

  const summarise = () => {
    summaryTimer = undefined
    if (!failing.size) return
    const lines = [...failing.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([target, f]) => {
        const parts = [
          ...(f.dead
            ? [
                `${f.dead} dead letter${f.dead === 1 ? '' : 's'}${f.lastReason ? ` (last: ${f.lastReason})` : ''}`,
              ]
            : []),
          ...(f.circuitOpen ? ['circuit open'] : []),
          ...(f.pollError !== undefined ? [`polls failing (${f.pollError})`] : []),
        ]
        return `• ${target}: ${parts.join(', ')}`
      })
    failing.clear()
    opts.post({
      title: 'Delivery failures',
      text: lines.join('\n'),
      severity: 'warning',
      source: 'outbox',
      at: now(),
    })
  }

  const failure = (kind: string, target: string, update: (f: Failing) => void) => {
    const key = `${kind}:${target}`
    const f = failing.get(key) ?? { dead: 0, lastReason: undefined, circuitOpen: false }
    update(f)
    failing.set(key, f)
    summaryTimer ??= setTimeout(summarise, config.summaryWindow)
  }

  return {
    start() {
      if (config.restarts) {
        bus.on(OWNER, 'service.failed', (e) => {
          const { service, error, attempt, retryInMs } = e.detail
          const t = now()
          const open = incidents.get(service)
          // Still the same incident unless the service has run quietly for a while since its last restart.
          const over =
            open?.restartedAt !== undefined &&
            open.restartedAt >= open.lastFailureAt &&
            t - open.restartedAt >= config.incidentQuiet
          if (open && !over) {
            open.lastFailureAt = t
            open.failures++
            return
          }
          incidents.set(service, { lastFailureAt: t, restartedAt: undefined, failures: 1 })
          opts.post({
            title: `Service ${service} failed`,
            text: `${error}\nThe supervisor restarts it with back-off (attempt ${attempt}, next in ${seconds(retryInMs)}).`,
            severity: 'critical',
            source: 'supervisor',
            key: `incident:${service}:${t}`,
            at: t,
          })
        })
        bus.on(OWNER, 'service.restarted', (e) => {
          const open = incidents.get(e.detail.service)
          if (open) open.restartedAt = now()
        })
      }
      if (config.bridges) {
        bus.on(OWNER, 'delivery.dead', (e) => {
          if (e.detail.kind === SLACK_KIND) return
          failure(e.detail.kind, e.detail.target, (f) => {
            f.dead++
            f.lastReason = e.detail.reason
          })
        })
        bus.on(OWNER, 'outbox.circuit', (e) => {
          if (e.detail.kind === SLACK_KIND || e.detail.state !== 'open') return
          failure(e.detail.kind, e.detail.target, (f) => {
            f.circuitOpen = true
          })
        })
        // A poller is a bridge too (the bridge status lists it): its first failure after a success
        // joins the summary like an open circuit; the polls that keep failing after it do not.
        bus.on(OWNER, 'action.failed', (e) => {
          if (e.detail.type !== 'poll') return
          const name = pollerName(e.detail.source)
          if (pollersDown.has(name)) return
          pollersDown.add(name)
          failure('poller', name, (f) => {
            f.pollError = e.detail.error
          })
        })
        bus.on(OWNER, 'schedule.run', (e) => {
          if (e.detail.actions.some((a) => a.type === 'poll' && a.ok)) pollersDown.delete(e.detail.id)
        })
        bus.on(OWNER, 'rule.fired', (e) => {
          if (e.detail.actions.some((a) => a.type === 'poll' && a.ok))
            pollersDown.delete(`rule:${e.detail.rule}`)
        })
      }
      if (config.events) {
        bus.on(OWNER, 'alert', (e) => {
          const { source, message, severity } = e.detail
          if (source === 'slack' || RANK[severity] < RANK[config.minSeverity]) return
          opts.post({ text: message, severity, source, key: `alert:${source}:${message}`, at: e.ts })
        })
      }
    },
    stop() {
      bus.off(OWNER)
      if (summaryTimer) clearTimeout(summaryTimer)
      // What was gathered so far still goes out (the dispatcher stores it on stop).
      summarise()
    },
  }
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`
}
