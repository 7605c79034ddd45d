import type { OutboxEntryView } from '../../../src/protocol.ts'
import { type Ctx, disposer } from '../ctx.ts'
import { type Column, h, jsonBlock, replace, section, table } from '../dom.ts'
import { ago, dateTime } from '../format.ts'
import { actionButton, badge } from '../widgets.ts'

/** The outbox: deliveries still to be made and dead letters, with replay and discard. */
export function outboxSection(ctx: Ctx): { el: HTMLElement; dispose(): void } {
  const d = disposer()
  const pendingBox = h('div')
  const deadBox = h('div')
  const detail = h('div')

  const columns = (dead: boolean): Column<OutboxEntryView>[] => [
    { label: '#', cell: (x) => String(x.id), class: 'num' },
    { label: 'Kind', cell: (x) => x.kind },
    { label: 'Target', cell: (x) => h('code', null, x.target) },
    { label: 'Attempts', cell: (x) => String(x.attempts), class: 'num' },
    {
      label: dead ? 'Reason' : 'Next attempt',
      cell: (x) =>
        dead ? (x.deadReason ?? x.lastError ?? '—') : h('span', { title: dateTime(x.nextAt) }, ago(x.nextAt)),
    },
    {
      label: 'Last error',
      cell: (x) => (x.lastError ? lastError(x) : '—'),
    },
    { label: 'State', cell: (x) => badge(x.state, x.state === 'dead' ? 'bad' : 'warn') },
    {
      label: 'Actions',
      cell: (x) =>
        h(
          'div',
          { class: 'row' },
          actionButton(
            'View',
            async () => replace(detail, h('h3', null, `Delivery #${x.id}`), jsonBlock(x)),
            { 'aria-label': `View outbox entry ${x.id}` },
          ),
          ctx.canWrite && dead
            ? actionButton(
                'Replay',
                async () => {
                  if (await ctx.attempt('Replaying', () => ctx.api.post(`/outbox/${x.id}/replay`)))
                    ctx.notify(`Entry #${x.id} queued again`)
                  await load()
                },
                { 'aria-label': `Replay outbox entry ${x.id}` },
              )
            : null,
          ctx.canWrite
            ? actionButton(
                'Discard',
                async () => {
                  if (!confirm(`Discard outbox entry #${x.id}?`)) return
                  await ctx.attempt('Discarding', () => ctx.api.del(`/outbox/${x.id}`))
                  await load()
                },
                { class: 'danger', 'aria-label': `Discard outbox entry ${x.id}` },
              )
            : null,
        ),
    },
  ]

  const load = async () => {
    const [pending, dead] = await Promise.all([
      ctx.attempt('Loading the outbox', () => ctx.api.get('/outbox', { limit: 50 })),
      ctx.attempt('Loading dead letters', () => ctx.api.get('/outbox', { state: 'dead', limit: 50 })),
    ])
    if (pending)
      replace(pendingBox, table('Pending deliveries', columns(false), pending.items, 'Nothing waiting.'))
    if (dead) replace(deadBox, table('Dead letters', columns(true), dead.items, 'No dead letters.'))
  }
  const replayAll = actionButton('Replay all dead letters', async () => {
    const r = await ctx.attempt('Replaying', () => ctx.api.post('/outbox/replay', {}))
    if (r) ctx.notify(`${r.replayed} dead letters queued again`)
    await load()
  })

  let timer: number | undefined
  d.add(
    ctx.live.onEvent((e) => {
      if (!e.type.startsWith('delivery.')) return
      // Bursts of delivery events reload once.
      clearTimeout(timer)
      timer = window.setTimeout(() => void load(), 300)
    }),
  )
  d.add(() => clearTimeout(timer))
  void load()
  const el = section(
    'Outbox',
    h('h3', null, 'Pending'),
    pendingBox,
    h('h3', null, 'Dead letters'),
    deadBox,
    ctx.canWrite ? replayAll : null,
    detail,
  )
  return { el, dispose: d.dispose }
}

// Bridges that already say `HTTP 500: …` need no status in front.
const lastError = (x: OutboxEntryView) =>
  x.lastStatus && !x.lastError?.startsWith(`HTTP ${x.lastStatus}`)
    ? `${x.lastStatus}: ${x.lastError}`
    : x.lastError
