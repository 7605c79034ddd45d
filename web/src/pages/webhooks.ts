import type { HookDeliveryView, HookView, WebhookTargetView } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, jsonBlock, replace, section, select, table } from '../dom.ts'
import { ago, dateTime } from '../format.ts'
import { actionButton, badge, onSubmit, snippet } from '../widgets.ts'
import { outboxSection } from './outbox.ts'

const PRESETS = ['none', 'github', 'slack', 'stripe', 'hmac-sha256', 'token']

/** Webhooks: inbound hooks with their deliveries (replay), outbound targets, and the outbox. */
export function webhooksPage(ctx: Ctx): Page {
  const d = disposer()
  const hooksBox = h('div')
  const deliveriesBox = h('div', { 'aria-live': 'polite' })
  const deliveryDetail = h('div')
  const targetsBox = h('div')
  const secretBox = h('div')
  const deliveriesTitle = h('h2', { id: 'deliveries-title' }, 'Recent deliveries')
  let chosen: string | undefined

  const loadHooks = async () => {
    const res = await ctx.attempt('Loading hooks', () => ctx.api.get('/hooks'))
    if (!res) return
    const cols: Column<HookView>[] = [
      { label: 'Hook', cell: (x) => h('code', null, x.name) },
      { label: 'URL', cell: (x) => h('code', null, location.origin + x.url) },
      { label: 'Preset', cell: (x) => x.preset },
      {
        label: 'Secret',
        cell: (x) => (x.hasSecret ? badge('set', 'ok') : badge('none', x.preset === 'none' ? 'off' : 'bad')),
      },
      { label: 'Publishes to', cell: (x) => h('code', null, x.topic) },
      { label: 'Source', cell: (x) => x.source },
      {
        label: 'Deliveries',
        cell: (x) =>
          actionButton('Show deliveries', () => showDeliveries(x.name), {
            'aria-label': `Show deliveries of ${x.name}`,
            'data-hook': x.name,
          }),
      },
    ]
    replace(hooksBox, table('Inbound hooks', cols, res.items, 'No hooks yet.'))
    if (!chosen && res.items[0]) await showDeliveries(res.items[0].name)
  }

  const showDeliveries = async (name: string) => {
    chosen = name
    deliveriesTitle.textContent = `Recent deliveries of ${name}`
    const res = await ctx.attempt('Loading deliveries', () =>
      ctx.api.get(`/hooks/${encodeURIComponent(name)}/deliveries`, {
        limit: 25,
      }),
    )
    if (!res || chosen !== name) return
    const cols: Column<HookDeliveryView>[] = [
      { label: '#', cell: (x) => String(x.id), class: 'num' },
      { label: 'Received', cell: (x) => h('span', { title: dateTime(x.ts) }, ago(x.ts)) },
      { label: 'Status', cell: (x) => badge(String(x.status), x.status < 300 ? 'ok' : 'bad') },
      { label: 'Verification', cell: (x) => x.verification },
      { label: 'Published', cell: (x) => (x.published ? h('code', null, x.published.topic) : '—') },
      { label: 'Replay of', cell: (x) => (x.replayOf ? `#${x.replayOf}` : '—') },
      {
        label: 'Actions',
        cell: (x) =>
          h(
            'div',
            { class: 'row' },
            actionButton(
              'View',
              async () =>
                replace(deliveryDetail, h('h3', null, `Delivery #${x.id}`), jsonBlock(x, `Delivery ${x.id}`)),
              { 'aria-label': `View delivery ${x.id}` },
            ),
            ctx.canWrite
              ? actionButton(
                  'Replay',
                  async () => {
                    const r = await ctx.attempt('Replaying', () =>
                      ctx.api.post(`/hooks/${encodeURIComponent(name)}/deliveries/${x.id}/replay`),
                    )
                    if (r) {
                      ctx.notify(
                        `Delivery #${x.id} replayed as #${r.id}${r.published ? ` to ${r.published.topic}` : ''}`,
                      )
                      await showDeliveries(name)
                    }
                  },
                  { 'aria-label': `Replay delivery ${x.id}` },
                )
              : null,
          ),
      },
    ]
    replace(deliveriesBox, table(`Deliveries of ${name}`, cols, res.items, 'No deliveries yet.'))
  }

  const loadTargets = async () => {
    const res = await ctx.attempt('Loading targets', () => ctx.api.get('/webhook-targets'))
    if (!res) return
    const cols: Column<WebhookTargetView>[] = [
      { label: 'Target', cell: (x) => h('code', null, x.name) },
      { label: 'Topic filter', cell: (x) => h('code', null, x.filter) },
      { label: 'URL', cell: (x) => h('code', null, x.url) },
      { label: 'State', cell: (x) => (x.enabled ? badge('enabled', 'ok') : badge('disabled', 'off')) },
      { label: 'Signed', cell: (x) => (x.signed ? 'yes' : 'no') },
      { label: 'Source', cell: (x) => x.source },
    ]
    replace(targetsBox, table('Outbound targets', cols, res.items, 'No outbound targets yet.'))
  }

  const hookName = h('input', { required: true, autocomplete: 'off', autocapitalize: 'none' })
  const preset = select({}, PRESETS, 'hmac-sha256')
  const hookTopic = h('input', { placeholder: 'hooks/{name}', autocomplete: 'off' })
  const hookForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Create an inbound hook' },
      field('Name', hookName),
      field('Preset', preset),
      field('Topic', hookTopic),
      h('button', { type: 'submit', class: 'primary' }, 'Create hook'),
    ),
    async () => {
      const res = await ctx.attempt('Creating the hook', () =>
        ctx.api.post('/hooks', {
          name: hookName.value.trim(),
          preset: preset.value,
          ...(hookTopic.value.trim() ? { topic: hookTopic.value.trim() } : {}),
        }),
      )
      if (!res) return
      ctx.notify(`Hook ${res.hook.name} created`)
      replace(
        secretBox,
        res.secret
          ? h(
              'div',
              { class: 'card' },
              h('p', { class: 'notice' }, 'The secret is shown only now.'),
              snippet(`Secret of ${res.hook.name}`, res.secret, ctx.notify),
              snippet('URL', location.origin + res.hook.url, ctx.notify),
            )
          : null,
      )
      hookForm.reset()
      await loadHooks()
    },
  )

  const tName = h('input', { required: true, autocomplete: 'off' })
  const tFilter = h('input', { required: true, placeholder: 'sensors/+/alarm', autocomplete: 'off' })
  const tUrl = h('input', {
    required: true,
    type: 'url',
    placeholder: 'https://example.com/hook',
    autocomplete: 'off',
  })
  const targetForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Create an outbound target' },
      field('Name', tName),
      field('Topic filter', tFilter),
      field('URL', tUrl),
      h('button', { type: 'submit', class: 'primary' }, 'Create target'),
    ),
    async () => {
      const res = await ctx.attempt('Creating the target', () =>
        ctx.api.post('/webhook-targets', {
          name: tName.value.trim(),
          filter: tFilter.value.trim(),
          url: tUrl.value.trim(),
        }),
      )
      if (!res) return
      ctx.notify(`Target ${res.target.name} created`)
      replace(
        secretBox,
        res.secret
          ? h(
              'div',
              { class: 'card' },
              h('p', { class: 'notice' }, 'The signing secret is shown only now.'),
              snippet(`Secret of ${res.target.name}`, res.secret, ctx.notify),
            )
          : null,
      )
      targetForm.reset()
      await loadTargets()
    },
  )

  const outbox = outboxSection(ctx)
  d.add(outbox.dispose)
  d.add(
    ctx.live.onEvent((e) => {
      if ((e.type === 'hook.received' || e.type === 'hook.rejected') && e.subject === chosen && chosen)
        void showDeliveries(chosen)
    }),
  )

  void loadHooks()
  void loadTargets()
  const el = h(
    'div',
    null,
    h('h1', null, 'Webhooks'),
    section('Inbound hooks', hooksBox, ctx.canWrite ? hookForm : null),
    secretBox,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'deliveries-title' },
      deliveriesTitle,
      deliveriesBox,
      deliveryDetail,
    ),
    section('Outbound targets', targetsBox, ctx.canWrite ? targetForm : null),
    outbox.el,
  )
  return { title: 'Webhooks', el, dispose: d.dispose }
}
