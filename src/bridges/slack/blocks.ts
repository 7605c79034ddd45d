import type { SlackMessage } from './client.ts'
import type { Severity } from './config.ts'

/** One thing to tell a person: an alert the hub raised, or a rule's or schedule's `slack` action. */
export interface SlackAlert {
  text: string
  title?: string | undefined
  severity: Severity
  /** What raised it (`supervisor`, `outbox`, `rule:door` …). */
  source: string
  /** Text written for Slack (a `slack` action): sent as mrkdwn; otherwise `&`, `<`, `>` are escaped. */
  markup?: boolean | undefined
  /** Identical alerts (same key, same destination) within the dedup window are sent once. */
  key?: string | undefined
  at: number
}

// Block Kit limits: 50 blocks a message, 3,000 characters a section, 150 a header.
const MAX_SECTIONS = 20
const SECTION_CHARS = 3000
// Slack truncates `text` past 40,000 characters and advises far less; notifications show the start.
const FALLBACK_CHARS = 3000

const ICON: Record<Severity, string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
}

/** `&`, `<` and `>` as Slack wants them in mrkdwn (api.slack.com/reference/surfaces/formatting#escaping). */
function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

const body = (a: SlackAlert) => (a.markup ? a.text : escapeMrkdwn(a.text))
const title = (a: SlackAlert) => (a.title ? escapeMrkdwn(a.title) : undefined)

/** A plain line for the fallback text (notifications, screen readers, clients without blocks). */
function line(a: SlackAlert): string {
  const t = title(a)
  return `${t ? `${t}: ` : ''}${body(a)}`
}

function section(a: SlackAlert): unknown {
  const t = title(a)
  const text = `${ICON[a.severity]} ${t ? `*${t}*\n` : ''}${body(a)}`
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_CHARS) } }
}

function context(a: SlackAlert): unknown {
  return {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `${escapeMrkdwn(a.source)} · ${new Date(a.at).toISOString()}` }],
  }
}

/** One message for the alerts gathered while a destination waited its turn: Block Kit plus fallback text. */
export function composeMessage(alerts: readonly SlackAlert[]): SlackMessage {
  const [only] = alerts
  if (alerts.length === 1 && only)
    return { text: clip(line(only), FALLBACK_CHARS), blocks: [section(only), context(only)] }
  const shown = alerts.slice(0, MAX_SECTIONS)
  const worst = alerts.some((a) => a.severity === 'critical')
    ? 'critical'
    : alerts.some((a) => a.severity === 'warning')
      ? 'warning'
      : 'info'
  const heading = `${alerts.length} messages`
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: `${heading}`, emoji: true } },
    ...shown.flatMap((a) => [section(a), context(a)]),
  ]
  if (alerts.length > shown.length)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${alerts.length - shown.length} more` }],
    })
  const text = `${ICON[worst]} ${heading}:\n${alerts.map((a) => `• ${line(a)}`).join('\n')}`
  return { text: clip(text, FALLBACK_CHARS), blocks }
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
