import type { AnyHubEvent, TokenView, UserView } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, replace, section, select, table } from '../dom.ts'
import { ago, dateTime } from '../format.ts'
import { metric } from '../metrics.ts'
import { actionButton, badge, onSubmit, snippet } from '../widgets.ts'

const BRIDGE_EVENTS = ['service.failed', 'service.restarted', 'outbox.circuit']

/** Settings: bridge status, users, API tokens, and a backup download. */
export function settingsPage(ctx: Ctx): Page {
  const d = disposer()
  const bridgeBox = h('div')
  const usersBox = h('div')
  const tokensBox = h('div')
  const secretBox = h('div')
  const admin = ctx.me.principal.scope === 'admin'

  const loadBridges = async () => {
    const res = await ctx.attempt('Loading bridge events', () =>
      ctx.api.get<{ items: AnyHubEvent[] }>('/events', { type: BRIDGE_EVENTS.join(','), limit: 15 }),
    )
    const items = res?.items ?? []
    const v = ctx.metrics.latest?.values
    const open = metric(v, 'hearth_outbox_open_circuits')
    const info = ctx.live.snapshot.hub
    const cols: Column<AnyHubEvent>[] = [
      { label: 'When', cell: (e) => h('span', { title: dateTime(e.ts) }, ago(e.ts)) },
      { label: 'Event', cell: (e) => e.type },
      { label: 'Service or target', cell: (e) => e.subject ?? '' },
      { label: 'Detail', cell: (e) => detailText(e) },
    ]
    replace(
      bridgeBox,
      h(
        'dl',
        { class: 'stats' },
        h(
          'div',
          null,
          h('dt', null, 'Outbox circuits'),
          h('dd', null, open ? badge(`${open} open`, 'bad') : badge('all closed', 'ok')),
        ),
        h(
          'div',
          null,
          h('dt', null, 'Pending deliveries'),
          h('dd', null, String(metric(v, 'hearth_outbox_depth{state="pending"}'))),
        ),
        h(
          'div',
          null,
          h('dt', null, 'Dead letters'),
          h('dd', null, String(metric(v, 'hearth_outbox_depth{state="dead"}'))),
        ),
        info ? h('div', null, h('dt', null, 'Hub version'), h('dd', null, info.version)) : null,
        info
          ? h(
              'div',
              null,
              h('dt', null, 'MQTT port'),
              h('dd', null, `${info.mqttPort}${info.mqttTlsPort ? `, TLS ${info.mqttTlsPort}` : ''}`),
            )
          : null,
      ),
      h('h3', null, 'Recent failures and restarts'),
      table('Bridge and service events', cols, items, 'No failures: every service is running.'),
    )
  }

  const loadUsers = async () => {
    const res = await ctx.attempt('Loading users', () => ctx.api.get<{ items: UserView[] }>('/users'))
    if (!res) return
    const cols: Column<UserView>[] = [
      { label: 'User', cell: (u) => u.username },
      { label: 'Role', cell: (u) => u.role },
      { label: 'Created', cell: (u) => dateTime(u.createdAt) },
    ]
    if (admin) {
      cols.push({
        label: 'Actions',
        cell: (u) =>
          h(
            'div',
            { class: 'row' },
            actionButton(
              u.role === 'admin' ? 'Make viewer' : 'Make admin',
              async () => {
                await ctx.attempt('Changing the role', () =>
                  ctx.api.patch(`/users/${encodeURIComponent(u.username)}`, {
                    role: u.role === 'admin' ? 'viewer' : 'admin',
                  }),
                )
                await loadUsers()
              },
              { 'aria-label': `Change the role of ${u.username}` },
            ),
            u.username === ctx.me.principal.id
              ? null
              : actionButton(
                  'Remove',
                  async () => {
                    if (!confirm(`Remove user ${u.username}?`)) return
                    await ctx.attempt('Removing the user', () =>
                      ctx.api.del(`/users/${encodeURIComponent(u.username)}`),
                    )
                    await loadUsers()
                  },
                  { class: 'danger', 'aria-label': `Remove ${u.username}` },
                ),
          ),
      })
    }
    replace(usersBox, table('Users', cols, res.items))
  }
  const newUser = h('input', { required: true, autocomplete: 'off', autocapitalize: 'none' })
  const newRole = select(
    {},
    [
      ['viewer', 'Viewer (read only)'],
      ['admin', 'Admin'],
    ],
    'viewer',
  )
  const newPassword = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    placeholder: 'empty: generate one',
  })
  const userForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Add a user' },
      field('Username', newUser),
      field('Role', newRole),
      field('Password', newPassword),
      h('button', { type: 'submit', class: 'primary' }, 'Add user'),
    ),
    async () => {
      const res = await ctx.attempt('Adding the user', () =>
        ctx.api.post<{ user: UserView; password?: string }>('/users', {
          username: newUser.value.trim(),
          role: newRole.value,
          ...(newPassword.value ? { password: newPassword.value } : {}),
        }),
      )
      if (!res) return
      ctx.notify(`User ${res.user.username} added`)
      replace(
        secretBox,
        res.password
          ? h(
              'div',
              { class: 'card' },
              h('p', { class: 'notice' }, 'The generated password is shown only now.'),
              snippet(`Password of ${res.user.username}`, res.password, ctx.notify),
            )
          : null,
      )
      userForm.reset()
      await loadUsers()
    },
  )

  const loadTokens = async () => {
    const res = await ctx.attempt('Loading API tokens', () => ctx.api.get<{ items: TokenView[] }>('/tokens'))
    if (!res) return
    const cols: Column<TokenView>[] = [
      { label: 'Name', cell: (t) => t.name },
      { label: 'Scope', cell: (t) => t.scope },
      { label: 'Prefix', cell: (t) => h('code', null, t.prefix) },
      { label: 'Created', cell: (t) => `${dateTime(t.createdAt)}${t.createdBy ? ` by ${t.createdBy}` : ''}` },
      { label: 'Last used', cell: (t) => ago(t.lastUsedAt) },
    ]
    if (admin) {
      cols.push({
        label: 'Revoke',
        cell: (t) =>
          actionButton(
            'Revoke',
            async () => {
              if (!confirm(`Revoke token ${t.name}? Clients using it stop working at once.`)) return
              await ctx.attempt('Revoking', () => ctx.api.del(`/tokens/${encodeURIComponent(t.id)}`))
              await loadTokens()
            },
            { class: 'danger', 'aria-label': `Revoke ${t.name}` },
          ),
      })
    }
    replace(tokensBox, table('API tokens', cols, res.items, 'No API tokens.'))
  }
  const tokenName = h('input', { required: true, autocomplete: 'off' })
  const tokenScope = select({}, ['read', 'write', 'admin'], 'read')
  const tokenForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Create an API token' },
      field('Name', tokenName),
      field('Scope', tokenScope),
      h('button', { type: 'submit', class: 'primary' }, 'Create token'),
    ),
    async () => {
      const res = await ctx.attempt('Creating the token', () =>
        ctx.api.post<{ token: TokenView; secret: string }>('/tokens', {
          name: tokenName.value.trim(),
          scope: tokenScope.value,
        }),
      )
      if (!res) return
      ctx.notify(`Token ${res.token.name} created`)
      replace(
        secretBox,
        h(
          'div',
          { class: 'card' },
          h('p', { class: 'notice' }, 'The token is shown only now.'),
          snippet(`Token ${res.token.name}`, res.secret, ctx.notify),
          snippet(
            'curl example',
            `curl -H 'Authorization: Bearer ${res.secret}' ${location.origin}/api/v1/devices`,
            ctx.notify,
          ),
        ),
      )
      tokenForm.reset()
      await loadTokens()
    },
  )

  d.add(
    ctx.live.onEvent((e) => {
      if (BRIDGE_EVENTS.includes(e.type)) void loadBridges()
      if (e.type.startsWith('user.')) void loadUsers()
      if (e.type.startsWith('token.')) void loadTokens()
    }),
  )
  d.add(ctx.metrics.onSample(() => void loadBridges()))
  void loadBridges()
  void loadUsers()
  void loadTokens()

  const el = h(
    'div',
    null,
    h('h1', null, 'Settings'),
    section('Bridge status', bridgeBox),
    section('Users', usersBox, admin ? userForm : null),
    section('API tokens', tokensBox, admin ? tokenForm : null),
    secretBox,
    admin
      ? section(
          'Backup',
          h(
            'p',
            null,
            'A consistent copy of the hub’s database, taken while it runs. Restore it with ',
            h('code', null, 'hearth restore <file>'),
            '.',
          ),
          h(
            'a',
            { href: '/api/v1/backup', download: '', class: 'button', id: 'backup-link' },
            'Download a backup',
          ),
        )
      : null,
  )
  return { title: 'Settings', el, dispose: d.dispose }
}

function detailText(e: AnyHubEvent): string {
  const x = e.detail as { error?: string; state?: string; attempt?: number; retryInMs?: number }
  if (e.type === 'outbox.circuit') return `circuit ${x.state}`
  if (e.type === 'service.failed')
    return `${x.error ?? ''} (attempt ${x.attempt}, retry in ${Math.round((x.retryInMs ?? 0) / 1000)} s)`
  return `attempt ${x.attempt ?? ''}`
}
