import type { BridgeKind, BridgeState, BridgeStatusView, TokenView, UserView } from '../../../src/protocol.ts'
import { errorText } from '../api.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, replace, section, select, table } from '../dom.ts'
import { ago, dateTime } from '../format.ts'
import { actionButton, badge, onSubmit, snippet, stat } from '../widgets.ts'

// Events after which a bridge's state may have changed.
const BRIDGE_EVENTS =
  /^(delivery\.|outbox\.|slack\.|firebase\.status|push\.(paused|resumed|batch)|schedule\.run|service\.)/

const STATE_BADGE: Record<BridgeState, 'ok' | 'warn' | 'bad' | 'off'> = {
  ok: 'ok',
  degraded: 'warn',
  down: 'bad',
  disabled: 'off',
}
const KIND_LABEL: Record<BridgeKind, string> = {
  fcm: 'FCM push',
  slack: 'Slack',
  webhook: 'webhook target',
  rtdb: 'Realtime Database',
  firestore: 'Firestore',
  poller: 'poller',
}

/** Settings: bridge status, users, API tokens, and a backup download. */
export function settingsPage(ctx: Ctx): Page {
  const d = disposer()
  const bridgeBox = h('div')
  const usersBox = h('div')
  const tokensBox = h('div')
  const secretBox = h('div')
  const admin = ctx.me.principal.scope === 'admin'

  const loadBridges = async () => {
    const res = await ctx.attempt('Loading bridge status', () => ctx.api.get('/bridges'))
    if (!res) return
    const info = ctx.live.snapshot.hub
    const count = (state: BridgeState) => res.items.filter((b) => b.state === state).length
    const cols: Column<BridgeStatusView>[] = [
      {
        label: 'Bridge',
        cell: (b) =>
          h('span', null, h('strong', null, b.name), ' ', h('small', { class: 'muted' }, KIND_LABEL[b.kind])),
      },
      { label: 'State', cell: (b) => badge(b.state, STATE_BADGE[b.state]) },
      { label: 'Detail', cell: (b) => b.detail ?? '' },
      { label: 'Waiting / dead', cell: (b) => `${b.pending} / ${b.dead}`, class: 'num' },
      {
        label: 'Last success',
        cell: (b) => h('span', { title: dateTime(b.lastSuccessAt) }, ago(b.lastSuccessAt)),
      },
      {
        label: 'Last error',
        cell: (b) =>
          b.lastErrorAt === null
            ? '—'
            : h('span', { title: dateTime(b.lastErrorAt) }, `${ago(b.lastErrorAt)}: ${b.lastError ?? ''}`),
      },
    ]
    replace(
      bridgeBox,
      h(
        'dl',
        { class: 'stats' },
        stat(
          'Bridges down',
          count('down') ? badge(String(count('down')), 'bad') : badge('none', 'ok'),
          'down',
        ),
        stat('Degraded', String(count('degraded'))),
        stat('OK', String(count('ok'))),
        info ? stat('Hub version', info.version) : null,
        info
          ? stat('MQTT port', `${info.mqttPort}${info.mqttTlsPort ? `, TLS ${info.mqttTlsPort}` : ''}`)
          : null,
      ),
      table('Bridges', cols, res.items, 'No bridges.'),
    )
  }

  const loadUsers = async () => {
    const res = await ctx.attempt('Loading users', () => ctx.api.get('/users'))
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
    // Others only: an admin's own password goes through "Your password", which asks the current one.
    const others = res.items.filter((u) => u.username !== ctx.me.principal.id).map((u) => u.username)
    const chosen = setUser.value
    replace(
      setUser,
      others.map((name) => h('option', { value: name, selected: name === chosen }, name)),
    )
    setForm.hidden = others.length === 0
  }
  const setUser = select({}, [])
  const setPasswordInput = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
  })
  const setForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Set a user’s password' },
      field('User', setUser),
      field('New password', setPasswordInput, 'at least 8 characters; their sessions end'),
      h('button', { type: 'submit' }, 'Set password'),
    ),
    async () => {
      const name = setUser.value
      const done = await ctx.attempt('Setting the password', async () => {
        await ctx.api.patch(`/users/${encodeURIComponent(name)}`, { password: setPasswordInput.value })
        return true
      })
      if (!done) return
      ctx.notify(`Password of ${name} set`)
      setForm.reset()
    },
  )
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
        ctx.api.post('/users', {
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

  // Every user, viewers too, may change their own password; the current one proves it is them.
  const currentPassword = h('input', { type: 'password', autocomplete: 'current-password', required: true })
  const ownPassword = h('input', {
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
  })
  const ownError = h('p', { class: 'error', role: 'alert' })
  const ownForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Change your password' },
      field('Current password', currentPassword),
      field('New password', ownPassword, 'at least 8 characters; your other sessions end'),
      h('button', { type: 'submit', class: 'primary' }, 'Change password'),
      ownError,
    ),
    async () => {
      ownError.textContent = ''
      try {
        await ctx.api.post('/auth/password', {
          currentPassword: currentPassword.value,
          newPassword: ownPassword.value,
        })
      } catch (err) {
        ownError.textContent = `Changing the password failed: ${errorText(err)}`
        return
      }
      ctx.notify('Your password is changed')
      ownForm.reset()
    },
  )

  const loadTokens = async () => {
    const res = await ctx.attempt('Loading API tokens', () => ctx.api.get('/tokens'))
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
        ctx.api.post('/tokens', {
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

  // Bursts of delivery events reload once; the metrics tick catches circuits reopening on their own.
  let timer: number | undefined
  const bridgesSoon = () => {
    clearTimeout(timer)
    timer = window.setTimeout(() => void loadBridges(), 300)
  }
  d.add(() => clearTimeout(timer))
  d.add(ctx.metrics.onSample(bridgesSoon))
  d.add(
    ctx.live.onEvent((e) => {
      if (BRIDGE_EVENTS.test(e.type)) bridgesSoon()
      if (admin && e.type.startsWith('user.')) void loadUsers()
      if (admin && e.type.startsWith('token.')) void loadTokens()
    }),
  )
  void loadBridges()
  if (admin) void loadUsers()
  if (admin) void loadTokens()

  const el = h(
    'div',
    null,
    h('h1', null, 'Settings'),
    section('Bridge status', bridgeBox),
    section('Your password', ownForm),
    // The users and tokens APIs are for admins only.
    admin ? section('Users', usersBox, userForm, setForm) : null,
    admin ? section('API tokens', tokensBox, tokenForm) : null,
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
