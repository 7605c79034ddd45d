import type { AclRuleView, AnyHubEvent } from '../../../src/protocol.ts'
import { ApiError } from '../api.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { credentialsPanel } from '../device-snippets.ts'
import { type Column, field, h, replace, section, select, table } from '../dom.ts'
import { deviceOf } from '../events.ts'
import { ago, brief, clock, dateTime } from '../format.ts'
import { href } from '../href.ts'
import { actionButton, onSubmit, parseJsonInput } from '../widgets.ts'
import { presence } from './devices.ts'

/** One device: presence, credentials rotation, ACL rules, desired vs reported state, a message. */
export function devicePage(ctx: Ctx, params: string[]): Page {
  const id = params[0] ?? ''
  const d = disposer()
  const summary = h('div')
  const credBox = h('div')
  const aclBox = h('div')
  const stateBox = h('div')
  const sendResult = h('div', { 'aria-live': 'polite' })
  const events = h('ul', { class: 'alerts', 'aria-label': `Recent events of ${id}` })
  const path: `/devices/${string}` = `/devices/${encodeURIComponent(id)}`

  const loadDevice = async () => {
    const dv = await ctx.attempt('Loading the device', () => ctx.api.get(path))
    if (!dv) return
    if (document.activeElement !== newName) newName.value = dv.name
    const toggle = actionButton(dv.enabled ? 'Disable' : 'Enable', async () => {
      await ctx.attempt('Changing the device', () => ctx.api.patch(path, { enabled: !dv.enabled }))
      await loadDevice()
    })
    const rotate = actionButton('Rotate credentials', async () => {
      if (!confirm(`Issue a new password for ${id}? The old one stops working at its next connect.`)) return
      const c = await ctx.attempt('Rotating', () => ctx.api.post(`${path}/rotate`))
      if (!c) return
      ctx.notify(`New credentials issued for ${id}`)
      const panel = credentialsPanel(c, ctx.live.snapshot.hub, ctx.notify)
      replace(credBox, panel)
      panel.focus()
    })
    const remove = actionButton(
      'Delete device',
      async () => {
        if (!confirm(`Delete ${id} and its ACL rules?`)) return
        const done = await ctx.attempt('Deleting', async () => {
          await ctx.api.del(path)
          return true
        })
        if (done) ctx.navigate(href('devices'))
      },
      { class: 'danger' },
    )
    replace(
      summary,
      h(
        'dl',
        { class: 'stats' },
        h('div', null, h('dt', null, 'Status'), h('dd', { 'data-presence': id }, presence(dv))),
        h('div', null, h('dt', null, 'Name'), h('dd', null, dv.name)),
        h(
          'div',
          null,
          h('dt', null, 'Last seen'),
          h('dd', { title: dateTime(dv.lastSeen) }, dv.online ? 'now' : ago(dv.lastSeen)),
        ),
        h('div', null, h('dt', null, 'Client id'), h('dd', { class: 'mono' }, dv.lastClientId ?? '—')),
        h('div', null, h('dt', null, 'Address'), h('dd', null, dv.lastAddress ?? '—')),
        h('div', null, h('dt', null, 'Last disconnect'), h('dd', null, dv.lastDisconnectReason ?? '—')),
        h('div', null, h('dt', null, 'Credentials issued'), h('dd', null, dateTime(dv.credentialsAt))),
        h('div', null, h('dt', null, 'Preset'), h('dd', null, dv.preset ?? '—')),
      ),
      ctx.canWrite ? h('div', { class: 'row' }, toggle, rotate, remove) : null,
    )
  }

  // A name for people; the id, the MQTT username and the topics stay as they are.
  const newName = h('input', { required: true, maxlength: 200, autocomplete: 'off' })
  const renameForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': `Rename ${id}` },
      field('Name', newName),
      h('button', { type: 'submit' }, 'Rename'),
    ),
    async () => {
      const dv = await ctx.attempt('Renaming the device', () =>
        ctx.api.patch(path, { name: newName.value.trim() }),
      )
      if (!dv) return
      ctx.notify(`${id} is now named ${dv.name}`)
      await loadDevice()
    },
  )

  const loadAcl = async () => {
    const res = await ctx.attempt('Loading ACL rules', () => ctx.api.get(`${path}/acl`))
    if (!res) return
    const cols: Column<AclRuleView>[] = [
      { label: 'Pattern', cell: (r) => h('code', null, r.pattern) },
      { label: 'Access', cell: (r) => r.access },
    ]
    if (ctx.canWrite) {
      cols.push({
        label: 'Remove',
        cell: (r) =>
          actionButton(
            'Remove',
            async () => {
              await ctx.attempt('Removing the rule', () => ctx.api.del(`${path}/acl`, { pattern: r.pattern }))
              await loadAcl()
            },
            { 'aria-label': `Remove rule ${r.pattern}` },
          ),
      })
    }
    replace(
      aclBox,
      h(
        'p',
        { class: 'hint' },
        `Besides these, ${id} may always use its own topics (devices/${id}/#) and what mqtt.acl grants.`,
      ),
      table('ACL rules', cols, res.items, 'No extra rules.'),
    )
  }
  const pattern = h('input', { required: true, placeholder: 'sensors/%u/#', autocomplete: 'off' })
  const access = select({}, ['read', 'write', 'readwrite'], 'readwrite')
  const aclForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Add an ACL rule' },
      field('Topic filter', pattern),
      field('Access', access),
      h('button', { type: 'submit' }, 'Add rule'),
    ),
    async () => {
      const ok = await ctx.attempt('Adding the rule', () =>
        ctx.api.post(`${path}/acl`, { pattern: pattern.value.trim(), access: access.value }),
      )
      if (ok) {
        pattern.value = ''
        await loadAcl()
      }
    },
  )

  const loadState = async () => {
    try {
      const s = await ctx.api.get(`${path}/state`)
      const keys = [...new Set([...Object.keys(s.desired), ...Object.keys(s.reported)])].sort()
      const cols: Column<string>[] = [
        { label: 'Key', cell: (k) => h('code', null, k) },
        {
          label: 'Desired',
          cell: (k) => (k in s.desired ? h('code', null, JSON.stringify(s.desired[k])) : '—'),
        },
        {
          label: 'Reported',
          cell: (k) => (k in s.reported ? h('code', null, JSON.stringify(s.reported[k])) : '—'),
        },
        {
          label: 'In sync',
          cell: (k) =>
            k in s.delta
              ? h('span', { class: 'badge warn' }, 'differs')
              : h('span', { class: 'badge ok' }, 'yes'),
        },
      ]
      replace(
        stateBox,
        h(
          'p',
          null,
          s.pending
            ? h('span', { class: 'badge warn' }, 'waiting for the device')
            : h('span', { class: 'badge ok' }, 'converged'),
          ` desired v${s.desiredVersion} (${ago(s.desiredAt)}), reported v${s.reportedVersion} (${ago(s.reportedAt)})`,
        ),
        table('Desired and reported state', cols, keys, 'No state yet.'),
      )
    } catch (err) {
      replace(
        stateBox,
        h(
          'p',
          { class: 'muted' },
          err instanceof ApiError && err.status === 404
            ? 'No state for this device (or this hub has no device-state API).'
            : `Could not load the state: ${(err as Error).message}`,
        ),
      )
    }
  }
  const desired = h('textarea', { rows: 3, placeholder: '{"power": "on"}' })
  const stateForm = onSubmit(
    h(
      'form',
      { 'aria-label': 'Change the desired state' },
      field('Desired state (JSON object, merged; null removes a key)', desired),
      h('button', { type: 'submit' }, 'Set desired state'),
    ),
    async () => {
      const ok = await ctx.attempt('Setting the desired state', async () =>
        ctx.api.patch(`${path}/state`, { desired: parseJsonInput(desired.value) }),
      )
      if (ok) {
        ctx.notify('Desired state sent')
        await loadState()
      }
    },
  )

  const message = h('textarea', { rows: 3, placeholder: '{"cmd": "reboot"} or plain text' })
  const sendForm = onSubmit(
    h(
      'form',
      { 'aria-label': `Send a message to ${id}` },
      field('Message (JSON or text)', message),
      h('button', { type: 'submit', class: 'primary' }, 'Send'),
    ),
    async () => {
      const r = await ctx.attempt('Sending', () =>
        ctx.live.request('sendUnicastMsg', {
          deviceId: id,
          message: parseJsonInput(message.value, true),
        }),
      )
      if (r)
        replace(
          sendResult,
          h(
            'p',
            { class: r.failedDevices.length ? 'notice error' : 'notice ok' },
            `Message ${r.messageId}: ${r.sentSize} of ${r.recipientSize} sent now${r.failedDevices.length ? `, failed: ${r.failedDevices.join(', ')}` : ''}.`,
          ),
        )
    },
  )

  const eventItem = (e: AnyHubEvent) =>
    h(
      'li',
      null,
      h('span', { class: 'mono muted' }, clock(e.ts)),
      ' ',
      h('strong', null, e.type),
      ' ',
      brief(e.detail, 100),
    )
  const about = (e: AnyHubEvent) => e.subject === id || deviceOf(e) === id
  const loadEvents = async () => {
    const res = await ctx.attempt('Loading events', () => ctx.api.get('/events', { subject: id, limit: 15 }))
    if (res)
      replace(
        events,
        res.items.length ? res.items.map(eventItem) : h('li', { class: 'muted' }, 'No events yet.'),
      )
  }
  d.add(
    ctx.live.onEvent((e) => {
      if (!about(e)) return
      events.querySelector(':scope > li.muted')?.remove()
      events.prepend(eventItem(e))
      while (events.children.length > 15) events.lastElementChild?.remove()
      if (
        e.type === 'device.online' ||
        e.type === 'device.offline' ||
        e.type === 'device.rotated' ||
        e.type === 'device.renamed'
      )
        void loadDevice()
      if (
        e.type.startsWith('device.reported') ||
        e.type.startsWith('device.desired') ||
        e.type.startsWith('device.converged')
      )
        void loadState()
    }),
  )

  void loadDevice()
  void loadAcl()
  void loadState()
  void loadEvents()
  const el = h(
    'div',
    null,
    h('p', null, h('a', { href: href('devices') }, '← All devices')),
    h('h1', null, `Device ${id}`),
    section('Status', summary, ctx.canWrite ? renameForm : null),
    credBox,
    section('ACL rules', aclBox, ctx.canWrite ? aclForm : null),
    section('Desired vs reported state', stateBox, ctx.canWrite ? stateForm : null),
    ctx.canWrite ? section('Send a message', sendForm, sendResult) : null,
    section('Recent events', events),
  )
  return { title: `Device ${id}`, el, dispose: d.dispose }
}
