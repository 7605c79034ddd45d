import type { ActionRunner } from '../actions/runner.ts'
import { createPushBridge, type PushBridge } from '../bridges/fcm/bridge.ts'
import { createFirebaseBridge, type FirebaseBridge } from '../bridges/firebase/bridge.ts'
import { createSlack, type Slack } from '../bridges/slack/slack.ts'
import { registerWebhookAction } from '../bridges/webhook/action.ts'
import { createWebhookClient } from '../bridges/webhook/client.ts'
import type { Broker } from '../broker/broker.ts'
import type { Config } from '../config/schema.ts'
import { createWebhookEdge, type WebhookEdge } from '../hooks/edge.ts'
import { type Metrics, registerOutboxMetrics } from '../http/metrics.ts'
import type { Scheduler } from '../jobs/scheduler.ts'
import type { Core, HubBasics } from './core.ts'
import type { ReloadStep } from './reload.ts'

export interface BridgesDeps extends HubBasics, Pick<Core, 'requireAuth' | 'credentials'> {
  broker: Broker
  actions: ActionRunner
  metrics: Metrics
  scheduler: Scheduler
}

export interface Bridges {
  webhooks: WebhookEdge
  push: PushBridge
  slack: Slack
  firebase: FirebaseBridge
  /** Inbound hooks, outbound webhook targets and Slack's settings take a reload. */
  reload: ReloadStep[]
}

/** Inbound hooks and every outbound bridge (webhooks, FCM push, Slack, Firebase), with their actions. */
export function composeBridges(deps: BridgesDeps): Bridges {
  const { config, db, bus, log, now, broker, actions, metrics, requireAuth, credentials, scheduler } = deps
  // Inbound hooks, outbound webhook targets and the outbox (issue 4 points 4, 6, 7).
  const webhooks = createWebhookEdge({ config, db, bus, log, broker, requireAuth, now })
  registerOutboxMetrics(metrics, () => webhooks.outbox.stats())
  // Webhook actions go through the outbox, like every outbound delivery (issue 5 point 2).
  registerWebhookAction(actions, {
    outbox: webhooks.outbox,
    targets: webhooks.targets,
    client: createWebhookClient({ now }),
    now,
  })
  // FCM push through the outbox (issue 6 point 1); the action exists only with a service account,
  // push's own or else the one the Firebase bridges use (those take no reload: the one they started with).
  const pushConfig = (c: Config['push']) => {
    const account = c.serviceAccount ?? config.firebase.serviceAccount
    return { ...c, ...(account ? { serviceAccount: account } : {}) }
  }
  const push = createPushBridge({
    config: pushConfig(config.push),
    db,
    bus,
    log,
    outbox: webhooks.outbox,
    metrics,
    requireAuth,
    credentials,
    now,
  })
  if (push.push.enabled) actions.register('push', push.push.executor)
  // Slack alerts and the slack action, through the outbox (issue 6 point 2).
  const slack = createSlack({ config: config.slack, bus, log, outbox: webhooks.outbox, metrics, now })
  if (slack.enabled) actions.register('slack', slack.executor)
  // RTDB mirror, Firestore schedules and the firestore action (issue 6 points 3, 4).
  const firebase = createFirebaseBridge({
    config: config.firebase,
    db,
    bus,
    log,
    broker,
    outbox: webhooks.outbox,
    scheduler,
    actions,
    requireAuth,
    metrics,
    now,
  })
  const reload: ReloadStep[] = [
    {
      keys: ['hooks'],
      apply(next) {
        webhooks.hooks.setConfig(next.hooks)
        return undefined
      },
    },
    {
      // Targets' subscriptions follow their registry's change notices.
      keys: ['webhooks'],
      apply(next) {
        webhooks.targets.setConfig(next.webhooks)
        return undefined
      },
    },
    {
      keys: ['push'],
      apply(next) {
        const was = push.push.enabled
        push.reload(pushConfig(next.push))
        if (!was && push.push.enabled) actions.register('push', push.push.executor)
        return undefined
      },
    },
    {
      keys: ['slack'],
      canFail: true,
      apply(next) {
        const was = slack.enabled
        slack.reload(next.slack)
        if (!was && slack.enabled) actions.register('slack', slack.executor)
        return undefined
      },
    },
  ]
  return { webhooks, push, slack, firebase, reload }
}
