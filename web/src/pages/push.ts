import type { AnyHubEvent } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, jsonBlock, replace, section, table } from '../dom.ts'
import { ago, brief, clock, dateTime } from '../format.ts'
import { onSubmit } from '../widgets.ts'

type Row = Record<string, unknown>

interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>
}

/** The push endpoints this hub offers, found in its OpenAPI document (the push API grows separately). */
export function findPushApi(doc: OpenApiDoc): { tokens?: string; send?: string } {
  const paths = Object.keys(doc.paths)
  const tokens = paths.find(
    (p) => /push/i.test(p) && /token/i.test(p) && !p.includes('{') && doc.paths[p]?.get,
  )
  const send = paths.find(
    (p) => /push/i.test(p) && /(test|send)/i.test(p) && !p.includes('{') && doc.paths[p]?.post,
  )
  return { ...(tokens ? { tokens } : {}), ...(send ? { send } : {}) }
}

const TIME_KEYS = ['createdAt', 'registeredAt', 'updatedAt', 'lastSeenAt']
const RESULT_KEYS = ['lastResult', 'lastStatus', 'lastError', 'status']

/** Push: registered tokens with their age and last result, and a test push — as far as the hub's API goes. */
export function pushPage(ctx: Ctx): Page {
  const d = disposer()
  const tokensBox = h('div', null, h('p', { class: 'muted' }, 'Looking for the push API…'))
  const sendBox = h('div')
  const events = h('ul', { class: 'alerts' }, h('li', { class: 'muted' }, 'No push events yet.'))

  const load = async () => {
    const doc = await ctx.attempt('Reading the API description', async () => {
      const res = await fetch('/api/v1/openapi.json', { credentials: 'same-origin' })
      return (await res.json()) as OpenApiDoc
    })
    const api = doc ? findPushApi(doc) : {}
    if (!api.tokens) {
      replace(
        tokensBox,
        h(
          'div',
          { class: 'notice', role: 'note' },
          h('p', null, h('strong', null, 'No push tokens yet.')),
          h(
            'p',
            null,
            'This hub does not offer the push-token API yet; once it does, registered phones appear here with their age and last result.',
          ),
        ),
      )
    } else {
      const path = api.tokens.replace(/^\/?/, '/')
      const res = await ctx.attempt('Loading push tokens', () => ctx.api.get<{ items?: Row[] } | Row[]>(path))
      const items: Row[] = Array.isArray(res) ? res : (res?.items ?? [])
      const keys = [...new Set(items.flatMap((r) => Object.keys(r)))]
        .filter((k) => !TIME_KEYS.includes(k) && !RESULT_KEYS.includes(k))
        .slice(0, 4)
      const time = TIME_KEYS.find((k) => items.some((r) => typeof r[k] === 'number'))
      const result = RESULT_KEYS.find((k) => items.some((r) => r[k] !== undefined))
      const cols: Column<Row>[] = keys.map((k) => ({
        label: k,
        cell: (r: Row) => h('code', null, brief(r[k], 48)),
      }))
      if (time)
        cols.push({
          label: 'Age',
          cell: (r) => h('span', { title: dateTime(r[time] as number) }, ago(r[time] as number)),
        })
      if (result) cols.push({ label: 'Last result', cell: (r) => brief(r[result] ?? '—', 80) })
      replace(tokensBox, table('Push tokens', cols, items, 'No phones registered yet.'))
    }
    if (api.send && ctx.canWrite) {
      const title = h('input', { value: 'Hearth test', required: true })
      const body = h('input', { value: 'A test push from the console' })
      const out = h('div', { 'aria-live': 'polite' })
      const path = api.send.replace(/^\/?/, '/')
      replace(
        sendBox,
        onSubmit(
          h(
            'form',
            { class: 'inline', 'aria-label': 'Send a test push' },
            field('Title', title),
            field('Body', body),
            h('button', { type: 'submit', class: 'primary' }, 'Send test push'),
          ),
          async () => {
            const r = await ctx.attempt('Sending the test push', () =>
              ctx.api.post(path, { title: title.value, body: body.value }),
            )
            if (r !== undefined) replace(out, jsonBlock(r, 'Push result'))
          },
        ),
        out,
      )
    } else {
      replace(sendBox, h('p', { class: 'muted' }, 'A test push needs the push API (not in this hub yet).'))
    }
  }

  d.add(
    ctx.live.onEvent((e: AnyHubEvent) => {
      if (
        !e.type.startsWith('push.') &&
        !(e.type.startsWith('delivery.') && String(e.subject ?? '').startsWith('fcm'))
      )
        return
      events.querySelector('.muted')?.remove()
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
    }),
  )
  void load()
  const el = h(
    'div',
    null,
    h('h1', null, 'Push'),
    section('Registered tokens', tokensBox),
    section('Test push', sendBox),
    section('Push events (live)', events),
  )
  return { title: 'Push', el, dispose: d.dispose }
}
