import type {
  AnyHubEvent,
  EventMap,
  PushPauseView,
  PushSendView,
  PushTokenView,
} from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Child, type Column, field, h, replace, section, select, table } from '../dom.ts'
import { ago, brief, clock, dateTime } from '../format.ts'
import { actionButton, badge, onSubmit } from '../widgets.ts'

type PushResult = EventMap['push.result']
type PushBatch = EventMap['push.batch']

const TOKEN_PAGE = 500
// Push events kept while the page is open: a test push's results may arrive before its 202 does.
const KEEP_EVENTS = 2000

/** Push: registered tokens with their age and last result, paused targets, and a test push. */
export function pushPage(ctx: Ctx): Page {
  const d = disposer()
  const statusBox = h('div')
  const tokensBox = h('div', null, h('p', { class: 'muted' }, 'Loading tokens…'))
  const pausesBox = h('div')
  const resultBox = h('div', { 'aria-live': 'polite', 'data-push-result': '' })
  const noEvents = h('li', { class: 'muted' }, 'No push events yet.')
  const events = h('ul', { class: 'alerts' }, noEvents)
  const seen: Array<PushResult | PushBatch> = []
  let sent: PushSendView | undefined

  const loadStatus = async () => {
    const bridge = await ctx.attempt('Loading the push status', () => ctx.api.get('/bridges/fcm:push'))
    if (!bridge) return
    replace(
      statusBox,
      bridge.state === 'disabled'
        ? h(
            'p',
            { class: 'notice', role: 'note' },
            `Push is not configured (${bridge.detail}): phones can register, nothing is sent.`,
          )
        : bridge.state === 'down'
          ? h('p', { class: 'notice', role: 'note' }, `Push cannot send: ${bridge.detail}`)
          : null,
    )
  }

  const tokenColumns: Column<PushTokenView>[] = [
    {
      label: 'Token',
      cell: (t) =>
        h(
          'span',
          null,
          h('code', { title: t.token }, brief(t.token, 28)),
          ' ',
          h('small', { class: 'muted' }, t.id),
        ),
    },
    { label: 'Platform', cell: (t) => t.platform },
    { label: 'Device / user', cell: (t) => [t.device, t.user].filter(Boolean).join(' / ') || '—' },
    { label: 'Labels', cell: (t) => t.labels.join(', ') || '—' },
    {
      label: 'Registered',
      cell: (t) =>
        h(
          'span',
          { title: `registered ${dateTime(t.createdAt)}, last refreshed ${dateTime(t.updatedAt)}` },
          ago(t.createdAt),
        ),
    },
    { label: 'Last result', cell: lastResult },
  ]
  if (ctx.canWrite)
    tokenColumns.push({
      label: 'Remove',
      cell: (t) =>
        actionButton(
          'Remove',
          async () => {
            if (!confirm(`Forget token ${t.id}? The phone gets no pushes until it registers again.`)) return
            await ctx.attempt('Removing the token', () =>
              ctx.api.del(`/push/tokens/${encodeURIComponent(t.id)}`),
            )
            await loadTokens()
          },
          { class: 'danger', 'aria-label': `Remove token ${t.id}` },
        ),
    })

  const loadTokens = async () => {
    const res = await ctx.attempt('Loading push tokens', () =>
      ctx.api.get('/push/tokens', { limit: TOKEN_PAGE }),
    )
    if (!res) return
    replace(
      tokensBox,
      table('Push tokens', tokenColumns, res.items, 'No phones registered yet.'),
      res.nextCursor
        ? h('p', { class: 'muted' }, `The ${TOKEN_PAGE} oldest tokens are shown; more are registered.`)
        : null,
    )
  }

  const loadPauses = async () => {
    const res = await ctx.attempt('Loading paused targets', () => ctx.api.get('/push/pauses'))
    if (!res) return
    const cols: Column<PushPauseView>[] = [
      { label: 'Target', cell: (p) => h('code', null, p.target) },
      { label: 'Why', cell: (p) => p.reason },
      { label: 'Paused', cell: (p) => h('span', { title: dateTime(p.pausedAt) }, ago(p.pausedAt)) },
    ]
    if (ctx.canWrite)
      cols.push({
        label: 'Resume',
        cell: (p) =>
          actionButton(
            'Resume',
            async () => {
              await ctx.attempt('Resuming', () => ctx.api.del(`/push/pauses/${encodeURIComponent(p.target)}`))
              await loadPauses()
            },
            { 'aria-label': `Resume ${p.target}` },
          ),
      })
    replace(
      pausesBox,
      res.items.length ? [h('h3', null, 'Paused targets'), table('Paused targets', cols, res.items)] : null,
    )
  }

  // The test push's outcome: one row per token (its latest result), then the batches' summary.
  const renderResult = () => {
    if (!sent) return
    const keys = new Set(sent.batchKeys)
    const perToken = new Map<string, PushResult>()
    const batches: PushBatch[] = []
    for (const e of seen) {
      if (!keys.has(e.batch)) continue
      if ('status' in e) perToken.set(e.token, e)
      else batches.push(e)
    }
    const done = batches.length === sent.batches
    const counts = (['sent', 'dead', 'failed', 'skipped', 'pruned'] as const).map(
      (k) => `${batches.reduce((n, b) => n + b[k], 0)} ${k}`,
    )
    const cols: Column<PushResult>[] = [
      { label: 'Token', cell: (r) => h('code', null, r.token) },
      { label: 'Platform', cell: (r) => r.platform ?? '—' },
      {
        label: 'Result',
        cell: (r) => badge(r.status, r.status === 'sent' ? 'ok' : r.status === 'retry' ? 'warn' : 'bad'),
      },
      { label: 'Detail', cell: (r) => r.messageId ?? r.errorCode ?? r.error ?? '' },
    ]
    replace(
      resultBox,
      h(
        'p',
        { 'data-state': done ? 'done' : 'sending' },
        done
          ? `Done: ${counts.join(' · ')}`
          : `Queued: ${plural(sent.tokens, 'token')}, ${plural(sent.batches, 'batch')}, to ${sent.target}…`,
      ),
      sent.tokens ? table('Test push results', cols, [...perToken.values()], 'Waiting for FCM…') : null,
    )
  }

  const to = select(
    {},
    [
      ['all', 'Every registered phone'],
      ['label', 'A label'],
      ['device', 'A device'],
      ['token', 'One token'],
    ],
    'all',
  )
  const toValue = h('input', {
    disabled: true,
    autocomplete: 'off',
    placeholder: 'label, device id or token',
  })
  to.addEventListener('change', () => {
    toValue.disabled = to.value === 'all'
    toValue.required = to.value !== 'all'
  })
  const title = h('input', { value: 'Hearth test', required: true })
  const body = h('input', { value: 'A test push from the console' })
  const form = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Send a test push' },
      field('Send to', to),
      field('Label, device or token', toValue),
      field('Title', title),
      field('Body', body),
      h('button', { type: 'submit', class: 'primary' }, 'Send test push'),
    ),
    async () => {
      const target = to.value === 'all' ? {} : { [to.value]: toValue.value.trim() }
      const res = await ctx.attempt('Sending the test push', () =>
        ctx.api.post('/push/send', { ...target, title: title.value, body: body.value }),
      )
      if (!res) return
      sent = res
      renderResult()
    },
  )

  let timer: number | undefined
  const reloadSoon = () => {
    // Bursts (a batch of 500 results) reload once.
    clearTimeout(timer)
    timer = window.setTimeout(() => {
      void loadTokens()
      void loadPauses()
      void loadStatus()
    }, 200)
  }
  d.add(() => clearTimeout(timer))
  d.add(
    ctx.live.onEvent((e: AnyHubEvent) => {
      if (e.type === 'push.result' || e.type === 'push.batch') {
        seen.push(e.detail)
        if (seen.length > KEEP_EVENTS) seen.splice(0, seen.length - KEEP_EVENTS)
        renderResult()
      }
      if (!e.type.startsWith('push.')) return
      if (e.type !== 'push.result') reloadSoon()
      noEvents.remove()
      events.prepend(
        h(
          'li',
          null,
          h('span', { class: 'mono muted' }, clock(e.ts)),
          ' ',
          h('strong', null, e.type),
          ' ',
          brief(e.detail, 100),
        ),
      )
      while (events.children.length > 50) events.lastElementChild?.remove()
    }),
  )
  void loadStatus()
  void loadTokens()
  void loadPauses()
  const el = h(
    'div',
    null,
    h('h1', null, 'Push'),
    statusBox,
    section('Registered tokens', tokensBox, pausesBox),
    ctx.canWrite ? section('Test push', form, resultBox) : null,
    section('Push events (live)', events),
  )
  return { title: 'Push', el, dispose: d.dispose }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('h') ? 'es' : 's'}`

/** The token's newest send result: sent, or failed with FCM's reason. */
function lastResult(t: PushTokenView): Child {
  const okAt = t.lastSuccessAt ?? 0
  const failAt = t.lastFailureAt ?? 0
  if (!okAt && !failAt) return h('span', { class: 'muted' }, 'never sent')
  if (okAt >= failAt) return h('span', { title: dateTime(okAt) }, badge('sent', 'ok'), ` ${ago(okAt)}`)
  return h(
    'span',
    { title: dateTime(failAt) },
    badge('failed', 'bad'),
    ` ${ago(failAt)}: ${t.lastError ?? 'unknown error'}${t.failures > 1 ? ` (${t.failures} in a row)` : ''}`,
  )
}
