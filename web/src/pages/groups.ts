import type {
  AnyHubEvent,
  ConsoleActions,
  DeviceGroupInfo,
  MessageProgress,
  SendResult,
} from '../../../src/protocol.ts'
import { errorText } from '../api.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, replace, section, table } from '../dom.ts'
import { brief, clock, count, dateTime } from '../format.ts'
import { badge, idList, onSubmit, parseJsonInput } from '../widgets.ts'

/** Results kept on the page (the event log keeps every one). */
const MAX_RESULTS = 200

const LABELS: Record<string, string> = {
  'group.created': 'Group created',
  'group.added': 'Devices added',
  'group.subtracted': 'Devices removed',
  'group.deleted': 'Group deleted',
  'message.sent': 'Message sent',
  'message.completed': 'Message completed',
  'device.upstream': 'Upstream message',
}

/** The group or device a console action is about, for its result row. */
function subjectOf(body: ConsoleActions[keyof ConsoleActions]['body']): string {
  if ('groupId' in body) return body.groupId
  if ('deviceId' in body) return body.deviceId
  return ''
}

/**
 * Groups & messages: source (c)'s console. Every action goes over /ws with the source's action and
 * field names; every result is a bus event, so it appears here live in every open console.
 */
export function groupsPage(ctx: Ctx): Page {
  const d = disposer()
  const groupsBox = h('div')
  const groupIds = h('datalist', { id: 'group-ids' })
  const results = h('tbody')
  const upstream = h('tbody')
  /** Each sent message's row and what was sent, so progress rewrites its details without reading them back. */
  const messageRows = new Map<string, { row: HTMLElement; sent: string }>()

  const loadGroups = async () => {
    const res = await ctx.attempt('Loading groups', () => ctx.live.request('listDeviceGroups', {}))
    if (!res) return
    const cols: Column<DeviceGroupInfo>[] = [
      { label: 'Group id', cell: (g) => h('code', null, g.groupId) },
      { label: 'Name', cell: (g) => g.name },
      { label: 'Description', cell: (g) => g.description ?? '—' },
      { label: 'Devices', cell: (g) => count(g.deviceSize), class: 'num' },
      { label: 'Updated', cell: (g) => dateTime(g.updatedAt) },
    ]
    replace(groupsBox, table('Device groups', cols, res.items, 'No groups yet.'))
    replace(
      groupIds,
      res.items.map((g) => h('option', { value: g.groupId }, g.name)),
    )
  }

  // Messages sent from here on that some recipients could never get (unknown devices).
  const partlyFailed = new Set<string>()
  const resultRow = (
    time: number,
    kind: string,
    label: string,
    ok: boolean | 'partly',
    subject: string,
    detail: string,
  ) =>
    h(
      'tr',
      { 'data-kind': kind },
      h('td', { 'data-label': 'Time', class: 'mono' }, clock(time)),
      h('td', { 'data-label': 'Result' }, badge(label, ok === 'partly' ? 'warn' : ok ? 'ok' : 'bad')),
      h('td', { 'data-label': 'Id' }, h('code', null, subject)),
      h('td', { 'data-label': 'Details', class: 'details' }, detail),
    )
  const addResult = (tr: HTMLElement) => {
    results.querySelector('td.empty')?.parentElement?.remove()
    results.prepend(tr)
    while (results.children.length > MAX_RESULTS) results.lastElementChild?.remove()
  }
  const progressText = (p: MessageProgress) =>
    `delivered ${p.delivered}, queued ${p.queued}, expired ${p.expired}, failed ${p.failed}`

  const onEvent = (e: AnyHubEvent) => {
    switch (e.type) {
      case 'group.created': {
        const x = e.detail
        addResult(
          resultRow(
            e.ts,
            e.type,
            LABELS[e.type]!,
            true,
            x.groupId,
            `name ${x.name}, ${x.deviceSize} devices${failed(x.failedDevices)}`,
          ),
        )
        void loadGroups()
        break
      }
      case 'group.added':
      case 'group.subtracted': {
        const x = e.detail
        const n = 'addedDeviceSize' in x ? x.addedDeviceSize : x.removedDeviceSize
        addResult(
          resultRow(
            e.ts,
            e.type,
            LABELS[e.type]!,
            true,
            x.groupId,
            `${n} ${e.type === 'group.added' ? 'added' : 'removed'}, ${x.totalDeviceSize} in the group${failed(x.failedDevices)}`,
          ),
        )
        void loadGroups()
        break
      }
      case 'group.deleted':
        addResult(resultRow(e.ts, e.type, LABELS[e.type]!, true, e.detail.groupId, ''))
        void loadGroups()
        break
      case 'message.sent': {
        const x: SendResult = e.detail
        // A message none of whose devices exists (a unicast to an unknown id) reached no one.
        const none = x.recipientSize === 0 && x.failedDevices.length > 0
        if (x.failedDevices.length) partlyFailed.add(x.messageId)
        const sent = `${x.groupId ? `group ${x.groupId}, ` : ''}${x.sentSize} of ${x.recipientSize} sent now${failed(x.failedDevices)}`
        const tr = resultRow(
          e.ts,
          e.type,
          `${cap(x.kind)} message ${none ? 'failed' : 'sent'}`,
          none ? false : x.failedDevices.length ? 'partly' : true,
          x.messageId,
          sent,
        )
        tr.dataset.message = x.messageId
        tr.dataset.group = x.groupId ?? ''
        messageRows.set(x.messageId, { row: tr, sent })
        addResult(tr)
        break
      }
      case 'message.progress':
      case 'message.completed': {
        const shown = messageRows.get(e.detail.messageId)
        const tr = shown?.row
        const cell = tr?.querySelector('td.details')
        if (shown && cell) cell.textContent = `${shown.sent} · ${progressText(e.detail)}`
        if (tr && e.type === 'message.completed') tr.dataset.completed = 'true'
        if (e.type === 'message.completed') {
          addResult(
            resultRow(
              e.ts,
              e.type,
              LABELS[e.type]!,
              e.detail.failed === 0 && !partlyFailed.delete(e.detail.messageId),
              e.detail.messageId,
              progressText(e.detail),
            ),
          )
        }
        break
      }
      case 'device.upstream': {
        const x = e.detail
        upstream.querySelector('td.empty')?.parentElement?.remove()
        upstream.prepend(
          h(
            'tr',
            null,
            h('td', { 'data-label': 'Time', class: 'mono' }, clock(e.ts)),
            h('td', { 'data-label': 'Sender' }, x.device),
            h('td', { 'data-label': 'Sent at' }, dateTime(x.sendTime)),
            h('td', { 'data-label': 'Message' }, h('code', null, brief(x.payload, 200))),
          ),
        )
        while (upstream.children.length > MAX_RESULTS) upstream.lastElementChild?.remove()
        break
      }
    }
  }
  d.add(ctx.live.onEvent(onEvent))

  /** Runs an action over /ws; a refusal becomes a red result row (successes arrive as events). */
  const run = async <A extends keyof ConsoleActions>(action: A, body: ConsoleActions[A]['body']) => {
    try {
      await ctx.live.request(action, body)
      return true
    } catch (err) {
      addResult(resultRow(Date.now(), 'error', `${action} failed`, false, subjectOf(body), errorText(err)))
      ctx.notify(`${action} failed: ${errorText(err)}`, 'error')
      return false
    }
  }

  const input = (name: string, props: Record<string, string | boolean> = {}) =>
    h('input', { name, autocomplete: 'off', autocapitalize: 'none', ...props })
  const groupInput = (name: string) =>
    input(name, { list: 'group-ids', required: true, placeholder: 'grp-…' })
  const messageInput = (name: string) =>
    h('textarea', { name, rows: 2, required: true, placeholder: '{"text": "hello"} or plain text' })

  const form = (
    title: string,
    fields: HTMLElement[],
    button: string,
    submit: (f: HTMLFormElement) => Promise<boolean>,
  ) => {
    const kind = button.startsWith('Delete') ? 'danger' : 'primary'
    const f = h(
      'form',
      { class: 'card', 'aria-label': title },
      h('h3', null, title),
      ...fields,
      h('button', { type: 'submit', class: kind }, button),
    )
    return onSubmit(f, async () => {
      if (await submit(f)) f.reset()
    })
  }
  const val = (f: HTMLFormElement, name: string) => (f.elements.namedItem(name) as HTMLInputElement).value

  const groupForms = h(
    'div',
    { class: 'grid' },
    form(
      'Create a group',
      [
        field('Group name', input('groupName', { required: true })),
        field('Description', input('groupDesc')),
        field('Devices', input('deviceList'), 'device ids, separated by commas or spaces'),
      ],
      'Create group',
      (f) =>
        run('createDeviceGroup', {
          groupName: val(f, 'groupName'),
          groupDesc: val(f, 'groupDesc') || null,
          deviceList: idList(val(f, 'deviceList')),
        }),
    ),
    form(
      'Add devices',
      [field('Group id', groupInput('groupId')), field('Devices', input('deviceList', { required: true }))],
      'Add to group',
      (f) => run('addDeviceGroup', { groupId: val(f, 'groupId'), deviceList: idList(val(f, 'deviceList')) }),
    ),
    form(
      'Remove devices',
      [field('Group id', groupInput('groupId')), field('Devices', input('deviceList', { required: true }))],
      'Remove from group',
      (f) =>
        run('subtractDeviceGroup', { groupId: val(f, 'groupId'), deviceList: idList(val(f, 'deviceList')) }),
    ),
    form('Delete a group', [field('Group id', groupInput('groupId'))], 'Delete group', (f) =>
      confirm(`Delete group ${val(f, 'groupId')}?`)
        ? run('deleteDeviceGroup', { groupId: val(f, 'groupId') })
        : Promise.resolve(false),
    ),
  )
  const message = (f: HTMLFormElement) => parseJsonInput(val(f, 'message'), true)
  const sendForms = h(
    'div',
    { class: 'grid' },
    form(
      'Unicast',
      [field('Device', input('deviceId', { required: true })), field('Message', messageInput('message'))],
      'Send unicast',
      (f) => run('sendUnicastMsg', { deviceId: val(f, 'deviceId'), message: message(f) }),
    ),
    form(
      'Multicast',
      [field('Devices', input('deviceList', { required: true })), field('Message', messageInput('message'))],
      'Send multicast',
      (f) => run('sendMulticastMsg', { deviceList: idList(val(f, 'deviceList')), message: message(f) }),
    ),
    form('Broadcast', [field('Message', messageInput('message'))], 'Send broadcast', (f) =>
      run('sendBroadcastMsg', { message: message(f) }),
    ),
    form(
      'Group message',
      [field('Group id', groupInput('groupId')), field('Message', messageInput('message'))],
      'Send to group',
      (f) => run('sendGroupMsg', { groupId: val(f, 'groupId'), message: message(f) }),
    ),
  )

  const resultsTable = (caption: string, heads: string[], body: HTMLElement, empty: string) => {
    body.append(h('tr', null, h('td', { colspan: heads.length, class: 'empty' }, empty)))
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'stack' },
        h('caption', { class: 'sr-only' }, caption),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            heads.map((x) => h('th', { scope: 'col' }, x)),
          ),
        ),
        body,
      ),
    )
  }

  void loadGroups()
  const el = h(
    'div',
    null,
    h('h1', null, 'Groups & messages'),
    groupIds,
    section('Device groups', groupsBox),
    ctx.canWrite ? section('Manage groups', groupForms) : null,
    ctx.canWrite ? section('Send messages', sendForms) : null,
    section(
      'Results (live)',
      h('p', { class: 'hint' }, 'Every group change and message result, from every console, as it happens.'),
      resultsTable('Results', ['Time', 'Result', 'Id', 'Details'], results, 'No results yet.'),
    ),
    section(
      'Upstream messages (live)',
      resultsTable(
        'Upstream messages',
        ['Time', 'Sender', 'Sent at', 'Message'],
        upstream,
        'No upstream messages yet.',
      ),
    ),
  )
  return { title: 'Groups & messages', el, dispose: d.dispose }
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1)
const failed = (ids: string[]) => (ids.length ? `; unknown devices: ${ids.join(', ')}` : '')
