import type { Database } from 'bun:sqlite'
import type { ActionBase, ActionResult } from '../actions/runner.ts'
import type { CircuitState } from '../outbox/breaker.ts'
import type { Outbox } from '../outbox/outbox.ts'
import { countByTarget } from '../outbox/store.ts'
import { lastEvent } from '../store/events.ts'
import { FCM_KIND, type Push } from './fcm/push.ts'
import { countPushTokens } from './fcm/tokens.ts'
import type { FirebaseBridge } from './firebase/bridge.ts'
import { FIRESTORE_KIND } from './firebase/firestore/writes.ts'
import type { HealthSnapshot } from './firebase/health.ts'
import { RTDB_KIND } from './firebase/rtdb/mirror.ts'
import { SLACK_KIND } from './slack/dispatcher.ts'
import type { Slack } from './slack/slack.ts'
import type { BridgeKind, BridgeState, BridgeStatusView } from './status-schema.ts'
import { WEBHOOK_KIND } from './webhook/bridge.ts'
import type { TargetRegistry } from './webhook/targets.ts'

/** The parts of the hub whose state the bridge status reads; it keeps none of its own. */
export interface BridgeStatusDeps {
  db: Database
  outbox: Pick<Outbox, 'circuits'>
  targets: Pick<TargetRegistry, 'list'>
  push: Pick<Push, 'enabled' | 'pauses'>
  slack: Pick<Slack, 'enabled' | 'destinations' | 'dead'>
  firebase: Pick<FirebaseBridge, 'health' | 'firestore'>
  scheduler: ScheduleRuns
}

/** The scheduler as the status reads it: pollers are schedules with a poll action (compose passes the scheduler). */
interface ScheduleRuns {
  list(): { id: string; definition: { enabled: boolean; actions: readonly ActionBase[] } }[]
  runs(id: string, limit: number): RunSummary[]
}

/** One run of a schedule, as far as the status reads it. */
interface RunSummary {
  startedAt: number
  finishedAt: number | null
  results: ActionResult[] | null
}

/** What the outbox and the event log know of one bridge's deliveries. */
interface Deliveries {
  pending: number
  dead: number
  circuit: { state: CircuitState; failures: number } | undefined
  lastSuccessAt: number | null
  lastErrorAt: number | null
  lastError: string | null
}

const NO_DELIVERIES: Deliveries = {
  pending: 0,
  dead: 0,
  circuit: undefined,
  lastSuccessAt: null,
  lastErrorAt: null,
  lastError: null,
}

type Verdict = { state: BridgeState; detail: string | null }

// Run history looked at for a poller's last success and last error.
const POLLER_RUNS = 20

/**
 * Every bridge the hub has, configured or not, with its state (the console's Settings → Bridge status).
 * Computed on each call from the outbox (counts, circuits), the event log (last delivery
 * outcomes, which survive a restart) and each bridge's own notion of health.
 */
export function listBridges(deps: BridgeStatusDeps): BridgeStatusView[] {
  const { db } = deps
  const counts = countByTarget(db)
  const circuits = deps.outbox.circuits()

  // One target, or every target of the kind when `target` is absent (push: one per audience).
  const deliveries = (kind: string, target?: string): Deliveries => {
    const mine = <T extends { kind: string; target: string }>(x: T) =>
      x.kind === kind && (target === undefined || x.target === target)
    const about = target === undefined ? { subjectPrefix: `${kind}:` } : { subject: `${kind}:${target}` }
    const success = lastEvent(db, { types: ['delivery.succeeded'], ...about })
    const failure = lastEvent(db, { types: ['delivery.failed', 'delivery.dead'], ...about })
    const open = circuits.filter(mine)
    return {
      pending: counts.filter(mine).reduce((n, c) => n + c.pending, 0),
      dead: counts.filter(mine).reduce((n, c) => n + c.dead, 0),
      circuit: open.find((c) => c.state === 'open') ?? open[0],
      lastSuccessAt: success?.ts ?? null,
      lastErrorAt: failure?.ts ?? null,
      lastError: failure
        ? failure.type === 'delivery.failed'
          ? failure.detail.error
          : failure.type === 'delivery.dead'
            ? failure.detail.reason
            : null
        : null,
    }
  }

  const rows: BridgeStatusView[] = []
  const add = (kind: BridgeKind, name: string, verdict: Verdict, d?: Partial<Deliveries>) =>
    rows.push({
      id: `${kind}:${name}`,
      kind,
      name,
      ...verdict,
      pending: d?.pending ?? 0,
      dead: d?.dead ?? 0,
      lastSuccessAt: d?.lastSuccessAt ?? null,
      lastErrorAt: d?.lastErrorAt ?? null,
      lastError: d?.lastError ?? null,
    })
  const off = (detail: string): Verdict => ({ state: 'disabled', detail })

  // FCM push: one row; a paused audience stops it as surely as an open circuit.
  if (!deps.push.enabled) add('fcm', 'push', off('push.serviceAccount is not set'))
  else {
    const d = deliveries(FCM_KIND)
    const pauses = deps.push.pauses()
    const tokens = countPushTokens(db)
    add(
      'fcm',
      'push',
      pauses.length
        ? { state: 'down', detail: `paused: ${pauses.map((p) => `${p.target} (${p.reason})`).join('; ')}` }
        : fromDeliveries(d, `${tokens} registered token${tokens === 1 ? '' : 's'}`),
      d,
    )
  }

  // Slack: a destination Slack called gone (404, 410, channel_not_found …) stays down until a restart.
  if (!deps.slack.enabled)
    add('slack', 'slack', off('no destination configured (slack.webhookUrl, slack.botToken)'))
  const dead = deps.slack.dead()
  for (const name of deps.slack.enabled ? deps.slack.destinations() : []) {
    const d = deliveries(SLACK_KIND, name)
    const reason = dead[name]
    add(
      'slack',
      name,
      reason ? { state: 'down', detail: `Slack says it is gone: ${reason}` } : fromDeliveries(d),
      d,
    )
  }

  for (const t of deps.targets.list()) {
    const d = deliveries(WEBHOOK_KIND, t.name)
    add('webhook', t.name, t.enabled ? fromDeliveries(d) : off('the target is disabled'), d)
  }

  // Firebase: reachability as each part last saw it, and the outbox's mirror and Firestore writes.
  const health = deps.firebase.health()
  if (health.rtdb) add('rtdb', 'mirror', ...withHealth(health.rtdb, deliveries(RTDB_KIND)))
  if (health['rtdb-stream']) add('rtdb', 'listen', ...withHealth(health['rtdb-stream']))
  if (!health.rtdb && !health['rtdb-stream']) add('rtdb', 'rtdb', off('firebase.rtdb.url is not set'))
  if (deps.firebase.firestore)
    add('firestore', 'firestore', ...withHealth(health.firestore, deliveries(FIRESTORE_KIND)))
  else
    add('firestore', 'firestore', off('no Firebase project (firebase.serviceAccount or firebase.projectId)'))

  for (const s of deps.scheduler.list()) {
    if (!s.definition.actions.some((a) => a.type === 'poll')) continue
    const [verdict, d] = pollerState(deps.scheduler.runs(s.id, POLLER_RUNS))
    add('poller', s.id, s.definition.enabled ? verdict : off('the schedule is disabled'), d)
  }
  return rows
}

/** down: the circuit is open; degraded: dead letters wait, or the last attempt failed; else ok. */
function fromDeliveries(d: Deliveries, okDetail: string | null = null): Verdict {
  if (d.circuit)
    return { state: 'down', detail: `circuit ${d.circuit.state} after ${d.circuit.failures} failed attempts` }
  if (d.dead) return { state: 'degraded', detail: `${d.dead} dead letter${d.dead === 1 ? '' : 's'}` }
  if (d.pending && (d.lastErrorAt ?? 0) > (d.lastSuccessAt ?? 0))
    return { state: 'degraded', detail: `retrying: ${d.lastError}` }
  return { state: 'ok', detail: okDetail ?? (d.pending ? `${d.pending} waiting` : null) }
}

/** A Firebase part: down while it cannot reach Firebase, otherwise as its deliveries are. */
function withHealth(h: HealthSnapshot | undefined, d?: Deliveries): [Verdict, Deliveries] {
  const base = d ?? NO_DELIVERIES
  const merged: Deliveries = {
    ...base,
    lastSuccessAt: latest(base.lastSuccessAt, h?.lastUpAt ?? null),
    lastErrorAt: latest(base.lastErrorAt, h?.lastDownAt ?? null),
    lastError:
      (h?.lastDownAt ?? 0) >= (base.lastErrorAt ?? 0) ? (h?.lastError ?? base.lastError) : base.lastError,
  }
  if (h?.state === 'down') return [{ state: 'down', detail: `cannot reach Firebase: ${h.lastError}` }, merged]
  return [fromDeliveries(merged, h?.state === 'unknown' ? 'not tried yet' : null), merged]
}

/** A poller is as its newest run's poll went. */
function pollerState(
  runs: readonly RunSummary[],
): [Verdict, Pick<Deliveries, 'lastSuccessAt' | 'lastErrorAt' | 'lastError'>] {
  const polls = runs.flatMap((r) => {
    const results = (r.results ?? []).filter((x) => x.type === 'poll')
    if (!results.length) return []
    const failed = results.find((x) => !x.ok)
    return [{ at: r.finishedAt ?? r.startedAt, error: failed && !failed.ok ? failed.error : undefined }]
  })
  const lastOk = polls.find((p) => p.error === undefined)
  const lastFailed = polls.find((p) => p.error !== undefined)
  const d = {
    lastSuccessAt: lastOk?.at ?? null,
    lastErrorAt: lastFailed?.at ?? null,
    lastError: lastFailed?.error ?? null,
  }
  const newest = polls[0]
  if (!newest) return [{ state: 'ok', detail: 'not run yet' }, d]
  if (newest.error !== undefined) return [{ state: 'down', detail: `last poll failed: ${newest.error}` }, d]
  return [{ state: 'ok', detail: null }, d]
}

const latest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b))
