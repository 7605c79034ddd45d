import type { ConsoleHubInfo, DeviceCredentialsView, PresetSettings } from '../../src/protocol.ts'
import { h, table } from './dom.ts'
import { snippet } from './widgets.ts'

const DEFAULT_TOPICS = {
  inbox: 'devices/%u/inbox',
  outbox: 'devices/%u/outbox',
  state: 'devices/%u/state',
  set: 'devices/%u/set',
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

/** The copy-able `mosquitto_pub` line and firmware JSON config for freshly issued credentials. */
export function credentialSnippets(c: DeviceCredentialsView, info: ConsoleHubInfo | undefined) {
  const host = location.hostname
  const port = info?.mqttPort ?? 1883
  const topics = info?.topics ?? DEFAULT_TOPICS
  const topic = (pattern: string) => pattern.replace('%u', c.id)
  const pub = [
    'mosquitto_pub',
    `-h ${host}`,
    `-p ${port}`,
    `-i ${quote(c.id)}`,
    `-u ${quote(c.username)}`,
    `-P ${quote(c.password)}`,
    `-q 1`,
    `-t ${quote(topic(topics.outbox))}`,
    `-m ${quote('{"hello":"hearth"}')}`,
  ].join(' ')
  const config = {
    mqtt: {
      host,
      port,
      ...(info?.mqttTlsPort ? { tlsPort: info.mqttTlsPort } : {}),
      clientId: c.id,
      username: c.username,
      password: c.password,
      topics: {
        inbox: topic(topics.inbox),
        outbox: topic(topics.outbox),
        state: topic(topics.state),
        set: topic(topics.set),
      },
    },
    ingest: { url: `${location.origin}/ingest/${encodeURIComponent(c.id)}`, username: c.username },
  }
  return { pub, config: JSON.stringify(config, null, 2) }
}

/** A preset's settings: the fields its tool asks for, the block to paste and the topics granted. */
function presetSection(s: PresetSettings, notify: (t: string) => void): HTMLElement {
  const paste = s.snippet
  return h(
    'section',
    { class: 'preset-settings', 'aria-label': `${s.tool} settings` },
    h('h3', null, `${s.tool} settings`),
    h(
      'p',
      null,
      `In ${s.where} (`,
      h('a', { href: s.docs, target: '_blank', rel: 'noopener' }, `${s.tool} docs`),
      '):',
    ),
    table(
      `${s.tool} settings`,
      [
        { label: 'Setting', cell: (f) => f.label },
        { label: 'Value', cell: (f) => h('span', { class: 'mono' }, f.value) },
      ],
      s.fields,
    ),
    paste
      ? snippet(
          `Paste into ${s.tool} (${paste.format === 'yaml' ? 'YAML' : paste.format})`,
          paste.text,
          notify,
        )
      : null,
    h('p', null, 'Topics granted besides its own devices/<id>/#:'),
    h(
      'ul',
      { class: 'mono' },
      s.acl.map((r) => h('li', null, `${r.pattern} (${r.access})`)),
    ),
  )
}

/** The credentials panel: shown once, with the password, the snippets and a warning. */
export function credentialsPanel(
  c: DeviceCredentialsView,
  info: ConsoleHubInfo | undefined,
  notify: (t: string) => void,
  settings?: PresetSettings,
): HTMLElement {
  const { pub, config } = credentialSnippets(c, info)
  return h(
    'section',
    { class: 'card credentials', 'aria-labelledby': 'cred-title', tabindex: -1 },
    h('h2', { id: 'cred-title' }, `Credentials of ${c.id}`),
    h(
      'p',
      { class: 'notice', role: 'note' },
      'The password is shown only now. Copy it into the device; the hub keeps only a hash.',
    ),
    h(
      'dl',
      { class: 'stats' },
      h('div', null, h('dt', null, 'Username'), h('dd', { class: 'mono' }, c.username)),
      h(
        'div',
        null,
        h('dt', null, 'Password'),
        h('dd', { class: 'mono', 'data-secret': 'password' }, c.password),
      ),
    ),
    settings ? presetSection(settings, notify) : null,
    snippet('mosquitto_pub command', pub, notify),
    snippet('Firmware config (JSON)', config, notify),
  )
}
