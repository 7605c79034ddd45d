import type { AnyHubEvent } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { field, h, jsonBlock, replace, section } from '../dom.ts'
import { detailText, deviceOf } from '../events.ts'
import { brief, clock, dateTime } from '../format.ts'
import { RECENT_MAX as TIMELINE_MAX } from '../recent.ts'

/** The topic an event is about, if it has one (hooks, upstream messages, ACL denials …). */
const topicOf = (e: AnyHubEvent): string => detailText(e, 'topic') ?? ''

/** Live timeline: every event over /ws, filterable, pausable, each one openable. */
export function timelinePage(ctx: Ctx): Page {
  const d = disposer()
  // The app keeps events since login, so what happened on other pages is here too.
  let buffer: AnyHubEvent[] = ctx.recent.items().slice(-TIMELINE_MAX)
  let held: AnyHubEvent[] = []
  let paused = false
  let selected: AnyHubEvent | undefined
  let dropped = 0
  let scheduled = false

  const typeFilter = h('input', {
    list: 'event-types',
    placeholder: 'e.g. device.online',
    autocomplete: 'off',
  })
  const typeList = h('datalist', { id: 'event-types' })
  const deviceFilter = h('input', { placeholder: 'device or subject', autocomplete: 'off' })
  const topicFilter = h('input', { placeholder: 'topic contains', autocomplete: 'off' })
  const pauseButton = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Pause')
  const heldNote = h('span', { class: 'muted', 'aria-live': 'polite' })
  const droppedNote = h('p', { class: 'notice', role: 'status', hidden: true })
  const list = h('ul', { class: 'timeline-list', 'aria-label': 'Events, newest first' })
  const shown = h('span', { class: 'muted' })
  const detail = h('div', null, h('p', { class: 'muted' }, 'Choose an event to see its payload.'))

  const matches = (e: AnyHubEvent) => {
    const t = typeFilter.value.trim()
    const dv = deviceFilter.value.trim().toLowerCase()
    const tp = topicFilter.value.trim().toLowerCase()
    if (t && !(t.endsWith('*') ? e.type.startsWith(t.slice(0, -1)) : e.type.includes(t))) return false
    if (dv) {
      const names = [e.subject, deviceOf(e)]
      if (!names.some((n) => typeof n === 'string' && n.toLowerCase().includes(dv))) return false
    }
    if (tp && !topicOf(e).toLowerCase().includes(tp)) return false
    return true
  }

  const showDetail = (e: AnyHubEvent) => {
    selected = e
    replace(
      detail,
      h(
        'p',
        null,
        h('strong', null, e.type),
        e.subject ? ` · ${e.subject}` : '',
        h('br'),
        h('span', { class: 'muted' }, dateTime(e.ts)),
      ),
      jsonBlock(e, `Event ${e.type}`),
    )
    render()
  }

  const item = (e: AnyHubEvent) => {
    const b = h(
      'button',
      { type: 'button', 'aria-pressed': String(e === selected) },
      h('span', { class: 't' }, clock(e.ts)),
      h('span', { class: 'type' }, e.type),
      h('span', { class: 's' }, e.subject ?? ''),
      h('span', { class: 'd' }, brief(e.detail)),
    )
    b.addEventListener('click', () => showDetail(e))
    return h('li', { 'data-type': e.type }, b)
  }

  const render = () => {
    scheduled = false
    const visible = buffer.filter(matches).reverse()
    replace(list, visible.length ? visible.map(item) : h('li', { class: 'muted' }, 'No events match.'))
    shown.textContent = `${visible.length} of ${buffer.length} events shown (the newest ${TIMELINE_MAX} are kept)`
    heldNote.textContent = paused ? `${held.length} new events held while paused` : ''
    const types = [...new Set(buffer.map((e) => e.type))].sort()
    replace(
      typeList,
      types.map((t) => h('option', { value: t })),
    )
  }
  // Many events in a burst render once per frame.
  const schedule = () => {
    if (scheduled) return
    scheduled = true
    requestAnimationFrame(render)
  }
  const push = (list: AnyHubEvent[], e: AnyHubEvent) => {
    list.push(e)
    if (list.length > TIMELINE_MAX) list.splice(0, list.length - TIMELINE_MAX)
  }

  d.add(
    ctx.live.onEvent((e) => {
      if (paused) push(held, e)
      else push(buffer, e)
      schedule()
    }),
  )
  d.add(
    ctx.live.onDropped((n) => {
      dropped += n
      droppedNote.hidden = false
      droppedNote.textContent = `${dropped} events were dropped because this console fell behind; the event log still has them.`
    }),
  )
  pauseButton.addEventListener('click', () => {
    paused = !paused
    pauseButton.textContent = paused ? 'Resume' : 'Pause'
    pauseButton.setAttribute('aria-pressed', String(paused))
    if (!paused) {
      for (const e of held) push(buffer, e)
      held = []
    }
    render()
  })
  const clear = h('button', { type: 'button' }, 'Clear')
  clear.addEventListener('click', () => {
    ctx.recent.clear()
    buffer = []
    held = []
    render()
  })
  for (const input of [typeFilter, deviceFilter, topicFilter]) input.addEventListener('input', schedule)
  render()

  const el = h(
    'div',
    null,
    h('h1', null, 'Live timeline'),
    h(
      'div',
      { class: 'card' },
      h(
        'div',
        { class: 'row', role: 'group', 'aria-label': 'Filters' },
        field('Type', typeFilter, 'ends with * for a prefix'),
        typeList,
        field('Device', deviceFilter),
        field('Topic', topicFilter),
        h('div', { class: 'field' }, pauseButton),
        h('div', { class: 'field' }, clear),
      ),
      heldNote,
    ),
    droppedNote,
    h('div', { class: 'split' }, section('Events', shown, list), section('Payload', detail)),
  )
  return { title: 'Live timeline', el, dispose: d.dispose }
}
