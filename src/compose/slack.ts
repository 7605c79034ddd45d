import type { ActionRunner } from '../actions/runner.ts'
import { createSlack, type Slack } from '../bridges/slack/slack.ts'
import type { Metrics } from '../http/metrics.ts'
import type { Outbox } from '../outbox/outbox.ts'
import type { HubBasics, HubModule } from './module.ts'

interface SlackModule extends HubModule {
  slack: Slack
}

interface SlackDeps extends HubBasics {
  metrics: Metrics
  outbox: Outbox
  /** The shared runner: the `slack` action is registered on it when a reload turns slack on. */
  actions: Pick<ActionRunner, 'register' | 'has'>
}

/** Slack alerts and the `slack` action, through the outbox. */
export function composeSlack(deps: SlackDeps): SlackModule {
  const { config, bus, log, now, metrics, outbox } = deps
  const sent = metrics.counter('hearth_slack_messages_total', 'messages delivered to Slack, by destination')
  const posted = metrics.counter(
    'hearth_slack_alerts_total',
    'alerts and slack actions by destination and outcome (queued, duplicate, dead)',
  )
  const slack = createSlack({
    config: config.slack,
    bus,
    log,
    outbox,
    onSent: (destination) => sent.inc({ destination }),
    onPost: (destination, outcome) => posted.inc({ destination, outcome }),
    now,
  })
  metrics.collect('hearth_slack_destination_dead', 'destinations Slack said are gone (1)', 'gauge', () => {
    const dead = slack.dead()
    return slack.destinations().map((d) => ({ labels: { destination: d }, value: d in dead ? 1 : 0 }))
  })
  return {
    name: 'slack',
    slack,
    services: [{ service: slack, restart: true }],
    actions: slack.enabled ? { slack: slack.executor } : {},
    reload: [
      {
        keys: ['slack'],
        canFail: true,
        apply(next) {
          slack.reload(next.slack)
          // The runner keeps an executor once registered: turned off and on again, it is there.
          if (slack.enabled && !deps.actions.has('slack')) deps.actions.register('slack', slack.executor)
          return undefined
        },
      },
    ],
  }
}
