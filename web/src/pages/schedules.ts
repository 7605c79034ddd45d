import type { AnyHubEvent, ScheduleRunView, ScheduleView } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, replace, section, select, table } from '../dom.ts'
import { ago, brief, dateTime, duration } from '../format.ts'
import { href } from '../href.ts'
import { actionButton, badge, onSubmit, parseJsonInput } from '../widgets.ts'

/** An interval in milliseconds (what the API answers for `every`) as people read it: "15 min". */
export function interval(ms: number): string {
  return ms % 1000 === 0 ? duration(ms / 1000) : `${ms} ms`
}

/** How a schedule fires, in words: "cron 10 0 * * 1", "daily at 07:30", "every 15 min". */
export function timing(s: ScheduleView['schedule']): string {
  switch (s.kind) {
    case 'cron':
      return `cron ${s.cron}`
    case 'daily':
      return `daily at ${s.at}`
    case 'weekly':
      return `${(s.days as string[]).join(', ')} at ${s.at}`
    case 'interval': {
      const every = typeof s.every === 'number' ? interval(s.every) : String(s.every)
      return `every ${every}${s.runAtStart === true ? ', and at start' : ''}`
    }
    case 'once':
      return `once at ${s.at}`
    default:
      return String(s.kind)
  }
}

const stateBadge = (v: ScheduleView) =>
  v.state.doneAt
    ? badge('done', 'off')
    : v.schedule.enabled === false
      ? badge('disabled', 'off')
      : v.state.running
        ? badge('running', 'warn')
        : badge('enabled', 'ok')

const path = (id: string): `/schedules/${string}` => `/schedules/${encodeURIComponent(id)}`
const withoutId = (s: ScheduleView['schedule']) => {
  const { id: _id, ...rest } = s
  return rest
}

/** Schedules: the list, creating one, enable/disable; each opens to its next runs and history. */
export function schedulesPage(ctx: Ctx, params: string[]): Page {
  if (params[0]) return schedulePage(ctx, params[0])
  const d = disposer()
  const listBox = h('div')

  const load = async () => {
    const res = await ctx.attempt('Loading schedules', () => ctx.api.get('/schedules'))
    if (!res) return
    const cols: Column<ScheduleView>[] = [
      { label: 'Schedule', cell: (v) => h('a', { href: href('schedules', v.id) }, v.id) },
      { label: 'Name', cell: (v) => String(v.schedule.name ?? '') },
      { label: 'When', cell: (v) => timing(v.schedule) },
      {
        label: 'Next run',
        cell: (v) =>
          v.state.nextRunAt
            ? h(
                'span',
                { title: v.state.nextRun ?? '' },
                `${dateTime(v.state.nextRunAt)} (${ago(v.state.nextRunAt)})`,
              )
            : '—',
      },
      { label: 'Last run', cell: (v) => ago(v.state.lastRunAt) },
      { label: 'State', cell: stateBadge },
      { label: 'Origin', cell: (v) => v.origin },
    ]
    if (ctx.canWrite)
      cols.push({
        label: 'Actions',
        cell: (v) =>
          h(
            'div',
            { class: 'row' },
            runButton(ctx, v.id),
            v.origin === 'api' ? toggleButton(ctx, v, load) : h('span', { class: 'muted' }, 'config file'),
          ),
      })
    replace(listBox, table('Schedules', cols, res.items, 'No schedules yet.'))
  }
  d.add(
    ctx.live.onEvent((e) => {
      if (e.type.startsWith('schedule.')) void load()
    }),
  )

  const id = h('input', {
    required: true,
    autocomplete: 'off',
    placeholder: 'weekly-push',
    pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*',
  })
  const name = h('input', { autocomplete: 'off' })
  const kind = select(
    {},
    [
      ['cron', 'Cron expression'],
      ['daily', 'Daily'],
      ['weekly', 'Weekly'],
      ['interval', 'Interval'],
      ['once', 'Once'],
    ],
    'cron',
  )
  const cron = h('input', { value: '10 0 * * 1', autocomplete: 'off' })
  const at = h('input', { value: '07:30', autocomplete: 'off' })
  const days = h('input', { value: 'mon, thu', autocomplete: 'off' })
  const every = h('input', { value: '30m', autocomplete: 'off' })
  const atStart = h('input', { type: 'checkbox' })
  const timezone = h('input', { placeholder: 'hub default, e.g. Asia/Seoul', autocomplete: 'off' })
  const actions = h(
    'textarea',
    { rows: 5, spellcheck: false },
    JSON.stringify([{ type: 'event', message: 'hello from a schedule' }], null, 2),
  )
  const fields = {
    cron: field('Cron expression', cron, 'minute hour day month weekday'),
    at: field('At', at, 'HH:MM for daily and weekly; a date and time for once'),
    days: field('Days', days, 'sun mon tue wed thu fri sat'),
    every: field('Every', every, 'e.g. 30s, 15m, 1h'),
    atStart: field('Run at start', atStart, 'also once when the hub starts and now'),
  }
  const showFields = () => {
    const k = kind.value
    fields.cron.hidden = k !== 'cron'
    fields.at.hidden = !(k === 'daily' || k === 'weekly' || k === 'once')
    fields.days.hidden = k !== 'weekly'
    fields.every.hidden = k !== 'interval'
    fields.atStart.hidden = k !== 'interval'
    if (k === 'once' && /^\d\d:\d\d$/.test(at.value))
      at.value = new Date(Date.now() + 3_600_000).toISOString().slice(0, 16)
    if (k !== 'once' && !/^\d\d:\d\d$/.test(at.value)) at.value = '07:30'
  }
  kind.addEventListener('change', showFields)
  showFields()

  const create = onSubmit(
    h(
      'form',
      { 'aria-label': 'Create a schedule' },
      h(
        'div',
        { class: 'row' },
        field('Schedule id', id),
        field('Name', name),
        field('Kind', kind),
        field('Timezone', timezone),
      ),
      h('div', { class: 'row' }, fields.cron, fields.at, fields.days, fields.every, fields.atStart),
      field('Actions (JSON array)', actions, 'publish, event, webhook, push, slack, setDesired, poll'),
      h('button', { type: 'submit', class: 'primary' }, 'Create schedule'),
    ),
    async () => {
      const k = kind.value
      const body: Record<string, unknown> = {
        id: id.value.trim(),
        kind: k,
        actions: parseJsonInput(actions.value),
        ...(name.value.trim() ? { name: name.value.trim() } : {}),
        ...(timezone.value.trim() ? { timezone: timezone.value.trim() } : {}),
      }
      if (k === 'cron') body.cron = cron.value.trim()
      if (k === 'daily' || k === 'weekly' || k === 'once') body.at = at.value.trim()
      if (k === 'weekly') body.days = days.value.split(/[\s,]+/).filter(Boolean)
      if (k === 'interval') {
        body.every = every.value.trim()
        if (atStart.checked) body.runAtStart = true
      }
      const created = await ctx.attempt('Creating the schedule', async () => ctx.api.post('/schedules', body))
      if (created) {
        ctx.notify(`Schedule ${created.id} created`)
        ctx.navigate(href('schedules', created.id))
      }
    },
  )

  void load()
  const el = h(
    'div',
    null,
    h('h1', null, 'Schedules'),
    section('All schedules', listBox),
    ctx.canWrite ? section('Create a schedule', create) : null,
  )
  return { title: 'Schedules', el, dispose: d.dispose }
}

/** Runs the schedule's actions at once; the result arrives as a `schedule.run` event. */
function runButton(ctx: Ctx, id: string) {
  return actionButton(
    'Run now',
    async () => {
      const run = await ctx.attempt('Starting the run', () => ctx.api.post(`${path(id)}/run`))
      if (run) ctx.notify(`Schedule ${id} is running`)
    },
    { 'aria-label': `Run ${id} now` },
  )
}

function toggleButton(ctx: Ctx, v: ScheduleView, after: () => Promise<void>) {
  const enabled = v.schedule.enabled !== false
  return actionButton(
    enabled ? 'Disable' : 'Enable',
    async () => {
      await ctx.attempt('Changing the schedule', () =>
        ctx.api.put(path(v.id), { ...withoutId(v.schedule), enabled: !enabled }),
      )
      await after()
    },
    { 'aria-label': `${enabled ? 'Disable' : 'Enable'} ${v.id}` },
  )
}

/** One schedule: its next ten runs, its history, and its JSON to edit. */
function schedulePage(ctx: Ctx, id: string): Page {
  const d = disposer()
  const summary = h('div')
  const nextBox = h('div')
  const runsBox = h('div')
  const editorBox = h('div')

  const load = async () => {
    const v = await ctx.attempt('Loading the schedule', () => ctx.api.get(path(id)))
    if (!v) return
    replace(
      summary,
      h(
        'dl',
        { class: 'stats' },
        h('div', null, h('dt', null, 'When'), h('dd', null, timing(v.schedule))),
        h('div', null, h('dt', null, 'State'), h('dd', null, stateBadge(v))),
        h('div', null, h('dt', null, 'Timezone'), h('dd', null, v.state.timezone)),
        h('div', null, h('dt', null, 'Last run'), h('dd', null, dateTime(v.state.lastRunAt))),
        h('div', null, h('dt', null, 'Origin'), h('dd', null, v.origin)),
      ),
      ctx.canWrite && v.origin !== 'api' ? h('div', { class: 'row' }, runButton(ctx, id)) : null,
      ctx.canWrite && v.origin === 'api'
        ? h(
            'div',
            { class: 'row' },
            runButton(ctx, id),
            toggleButton(ctx, v, load),
            actionButton(
              'Delete schedule',
              async () => {
                if (!confirm(`Delete schedule ${id} and its history?`)) return
                const done = await ctx.attempt('Deleting', async () => {
                  await ctx.api.del(path(id))
                  return true
                })
                if (done) ctx.navigate(href('schedules'))
              },
              { class: 'danger' },
            ),
          )
        : null,
    )
    if (ctx.canWrite && v.origin === 'api' && !editorBox.firstChild) {
      const text = h(
        'textarea',
        { rows: 12, spellcheck: false },
        JSON.stringify(withoutId(v.schedule), null, 2),
      )
      replace(
        editorBox,
        onSubmit(
          h(
            'form',
            { 'aria-label': 'Edit the schedule' },
            field('Schedule (JSON)', text),
            h('button', { type: 'submit', class: 'primary' }, 'Save'),
          ),
          async () => {
            const saved = await ctx.attempt('Saving', async () =>
              ctx.api.put(path(id), parseJsonInput(text.value)),
            )
            if (saved) {
              ctx.notify('Schedule saved')
              await Promise.all([load(), loadNext()])
            }
          },
        ),
      )
    }
  }
  const loadNext = async () => {
    const res = await ctx.attempt('Loading the next runs', () =>
      ctx.api.get(`${path(id)}/next`, { count: 10 }),
    )
    if (!res) return
    const cols: Column<{ at: number; local: string }>[] = [
      { label: '#', cell: (r) => String(res.runs.indexOf(r) + 1), class: 'num' },
      { label: `Local time (${res.timezone})`, cell: (r) => h('span', { class: 'mono' }, r.local) },
      { label: 'In your browser', cell: (r) => dateTime(r.at) },
      { label: 'From now', cell: (r) => ago(r.at) },
    ]
    replace(nextBox, table('Next runs', cols, res.runs, 'No further runs.'))
    nextBox.dataset.runs = String(res.runs.length)
  }
  const loadRuns = async () => {
    const res = await ctx.attempt('Loading the history', () => ctx.api.get(`${path(id)}/runs`, { limit: 20 }))
    if (!res) return
    const cols: Column<ScheduleRunView>[] = [
      { label: 'Scheduled', cell: (r) => dateTime(r.scheduledAt) },
      { label: 'Started', cell: (r) => dateTime(r.startedAt) },
      { label: 'Took', cell: (r) => (r.finishedAt ? `${r.finishedAt - r.startedAt} ms` : '—'), class: 'num' },
      {
        label: 'Status',
        cell: (r) => [
          badge(
            r.late ? `${r.status} (late)` : r.status,
            r.status === 'ok' ? 'ok' : r.status === 'failed' ? 'bad' : 'warn',
          ),
          // Why a run happened outside the schedule's timing ("run now", "run at start").
          r.reason && r.results ? h('small', { class: 'muted' }, ` ${r.reason}`) : null,
        ],
      },
      { label: 'Results', cell: (r) => h('code', null, brief(r.results ?? r.reason ?? '', 100)) },
    ]
    replace(runsBox, table('Run history', cols, res.items, 'It has not run yet.'))
  }
  d.add(
    ctx.live.onEvent((e: AnyHubEvent) => {
      if ((e.type === 'schedule.run' || e.type === 'schedule.skipped') && e.detail.id === id)
        void Promise.all([load(), loadNext(), loadRuns()])
    }),
  )
  void load()
  void loadNext()
  void loadRuns()
  const el = h(
    'div',
    null,
    h('p', null, h('a', { href: href('schedules') }, '← All schedules')),
    h('h1', null, `Schedule ${id}`),
    section('Summary', summary),
    section('Next ten runs', nextBox),
    section('History', runsBox),
    ctx.canWrite ? section('Edit', editorBox) : null,
  )
  return { title: `Schedule ${id}`, el, dispose: d.dispose }
}
