import type { DeviceCredentialsView, RetainedView } from '../../../src/protocol.ts'
import { ApiError, errorText } from '../api.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { field, h, replace, section, select } from '../dom.ts'
import { clock } from '../format.ts'
import { actionButton, onSubmit } from '../widgets.ts'

type MqttModule = typeof import('../mqtt.ts')
type MqttClient = ReturnType<MqttModule['connect']>

/** Messages kept in the watch list. */
const MAX_WATCHED = 200

interface TopicNode {
  name: string
  path: string
  children: Map<string, TopicNode>
  message?: RetainedView
}

/** Builds the topic tree of retained messages: `a/b/c` → a › b › c. */
export function topicTree(items: RetainedView[]): TopicNode {
  const root: TopicNode = { name: '', path: '', children: new Map() }
  for (const m of items) {
    let node = root
    const levels = m.topic.split('/')
    levels.forEach((level, i) => {
      let next = node.children.get(level)
      if (!next) {
        next = { name: level, path: levels.slice(0, i + 1).join('/'), children: new Map() }
        node.children.set(level, next)
      }
      node = next
    })
    node.message = m
  }
  return root
}

const payloadText = (m: RetainedView) => (m.encoding === 'base64' ? `(base64) ${m.payload}` : m.payload)

/** The URL of the bundled MQTT client (web/dist/mqtt.js), as the page that loaded the console names it. */
const mqttModuleUrl = () =>
  document.querySelector<HTMLScriptElement>('script[data-mqtt]')?.dataset.mqtt ?? '/assets/mqtt.js'

/** MQTT explorer: the retained-topic tree, publishing, and watching a filter over MQTT-over-WebSocket. */
export function explorerPage(ctx: Ctx): Page {
  const d = disposer()
  const treeBox = h('div')
  const payloadBox = h('div', { 'aria-live': 'polite' })
  const watchList = h('tbody')
  const watchStatus = h('p', { class: 'muted', role: 'status' }, 'Not watching.')
  let client: MqttClient | undefined
  d.add(() => client?.end(true))

  const renderNode = (node: TopicNode): HTMLElement => {
    const kids = [...node.children.values()].sort((a, b) => a.name.localeCompare(b.name))
    const leaf = node.message
      ? h(
          'button',
          {
            type: 'button',
            class: 'leaf',
            'data-topic': node.path,
            'aria-label': `Show retained message of ${node.path}`,
          },
          kids.length ? '(message)' : node.name || '(empty level)',
        )
      : null
    leaf?.addEventListener('click', () => showMessage(node.message!))
    if (!kids.length) return h('li', null, leaf)
    return h(
      'li',
      null,
      h(
        'details',
        { open: true },
        h('summary', null, node.name || '(empty level)'),
        h('ul', { class: 'tree' }, leaf ? h('li', null, leaf) : null, kids.map(renderNode)),
      ),
    )
  }

  const showMessage = (m: RetainedView) => {
    replace(
      payloadBox,
      h('h3', null, h('code', null, m.topic)),
      h('p', { class: 'muted' }, `QoS ${m.qos}, retained, ${m.encoding}`),
      h('pre', { class: 'json', tabindex: 0 }, prettyPayload(payloadText(m))),
      ctx.canWrite
        ? actionButton(
            'Clear retained message',
            async () => {
              if (!confirm(`Clear the retained message of ${m.topic}?`)) return
              await ctx.attempt('Clearing', () => ctx.api.del('/retained', { topic: m.topic }))
              replace(payloadBox)
              await loadTree()
            },
            { class: 'danger' },
          )
        : null,
    )
  }

  const filter = h('input', { value: '#', autocomplete: 'off', autocapitalize: 'none' })
  const loadTree = async () => {
    const res = await ctx.attempt('Loading retained messages', () =>
      ctx.api.get('/retained', {
        filter: filter.value || '#',
        limit: 1000,
      }),
    )
    if (!res) return
    const root = topicTree(res.items)
    replace(
      treeBox,
      res.items.length
        ? h(
            'ul',
            { class: 'tree', 'aria-label': 'Retained topics' },
            [...root.children.values()].sort((a, b) => a.name.localeCompare(b.name)).map(renderNode),
          )
        : h('p', { class: 'muted' }, 'No retained messages match.'),
      res.truncated
        ? h('p', { class: 'notice' }, 'Only the first 1000 topics are shown; narrow the filter.')
        : null,
    )
  }
  const treeForm = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Filter retained topics' },
      field('Topic filter', filter),
      h('button', { type: 'submit' }, 'Show'),
    ),
    loadTree,
  )

  const topic = h('input', {
    required: true,
    autocomplete: 'off',
    autocapitalize: 'none',
    placeholder: 'home/lamp/set',
  })
  const payload = h('textarea', { rows: 3, placeholder: '{"on": true}' })
  const qos = select(
    {},
    [
      ['0', 'QoS 0'],
      ['1', 'QoS 1'],
      ['2', 'QoS 2'],
    ],
    '0',
  )
  const retain = h('input', { type: 'checkbox', id: 'publish-retain' })
  const publishForm = onSubmit(
    h(
      'form',
      { 'aria-label': 'Publish a message' },
      h(
        'div',
        { class: 'row' },
        field('Topic', topic),
        field('QoS', qos),
        h('div', { class: 'field' }, h('label', { for: 'publish-retain' }, retain, ' Retain')),
      ),
      field('Payload (text)', payload),
      h('button', { type: 'submit', class: 'primary' }, 'Publish'),
    ),
    async () => {
      const r = await ctx.attempt('Publishing', () =>
        ctx.api.post('/publish', {
          topic: topic.value.trim(),
          payload: payload.value,
          encoding: 'utf8',
          qos: Number(qos.value),
          retain: retain.checked,
        }),
      )
      if (r) {
        ctx.notify(`Published ${r.bytes} bytes to ${r.topic}`)
        if (retain.checked) await loadTree()
      }
    },
  )

  // Watching: the explorer connects like a device, over /mqtt, as "console-<user>" unless told otherwise.
  const watchFilter = h('input', { value: '#', required: true, autocomplete: 'off', autocapitalize: 'none' })
  const username = h('input', {
    autocomplete: 'off',
    autocapitalize: 'none',
    placeholder: `console-${ctx.me.principal.id}`,
  })
  const password = h('input', { type: 'password', autocomplete: 'off' })
  const watcherCredentials = async (): Promise<{ username: string; password: string }> => {
    if (username.value.trim() && password.value)
      return { username: username.value.trim(), password: password.value }
    const id = `console-${ctx.me.principal.id}`.replace(/[^A-Za-z0-9_.-]/g, '_')
    let creds: DeviceCredentialsView
    try {
      creds = (
        await ctx.api.post('/devices', {
          id,
          name: 'MQTT explorer of the console',
        })
      ).credentials
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 409)) throw err
      creds = await ctx.api.post(`/devices/${encodeURIComponent(id)}/rotate`)
    }
    await ctx.api.post(`/devices/${encodeURIComponent(id)}/acl`, { pattern: '#', access: 'read' })
    return { username: creds.username, password: creds.password }
  }
  const addWatched = (t: string, message: Uint8Array, packet: { qos: number; retain: boolean }) => {
    watchList.querySelector('td.empty')?.parentElement?.remove()
    const text = new TextDecoder().decode(message)
    watchList.prepend(
      h(
        'tr',
        { 'data-topic': t },
        h('td', { class: 'mono', 'data-label': 'Time' }, clock(Date.now())),
        h('td', { 'data-label': 'Topic' }, h('code', null, t)),
        h('td', { 'data-label': 'QoS', class: 'num' }, String(packet.qos)),
        h('td', { 'data-label': 'Retained' }, packet.retain ? 'yes' : ''),
        h(
          'td',
          { 'data-label': 'Payload' },
          h('code', null, text.length > 500 ? `${text.slice(0, 499)}…` : text),
        ),
      ),
    )
    while (watchList.children.length > MAX_WATCHED) watchList.lastElementChild?.remove()
  }
  const stop = () => {
    client?.end(true)
    client = undefined
    watchStatus.textContent = 'Not watching.'
    watchButton.textContent = 'Watch'
  }
  const watchButton = h('button', { type: 'submit', class: 'primary' }, 'Watch')
  const watchForm = onSubmit(
    h(
      'form',
      { 'aria-label': 'Subscribe to a filter and watch' },
      h(
        'div',
        { class: 'row' },
        field('Topic filter', watchFilter),
        field('MQTT username', username, 'empty: the console creates or rotates its own watcher device'),
        field('Password', password),
      ),
      watchButton,
    ),
    async () => {
      if (client) return stop()
      const wsPath =
        ctx.live.snapshot.hub?.mqttWsPath === undefined ? '/mqtt' : ctx.live.snapshot.hub.mqttWsPath
      if (!wsPath) {
        watchStatus.textContent = 'MQTT over WebSocket is turned off on this hub (mqtt.websocket.enabled).'
        return
      }
      try {
        watchStatus.textContent = 'Connecting…'
        const [mod, creds] = await Promise.all([
          import(mqttModuleUrl()) as Promise<MqttModule>,
          watcherCredentials(),
        ])
        // Native timers: mqtt.js would otherwise start a blob: worker, which the console's CSP forbids.
        const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${wsPath}`
        const c = mod.connect(url, {
          ...creds,
          clientId: `${creds.username}-${Math.random().toString(36).slice(2, 8)}`,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          timerVariant: 'native',
        })
        client = c
        c.on('message', addWatched)
        c.on('error', (err) => {
          watchStatus.textContent = `MQTT error: ${err.message}`
        })
        c.on('close', () => {
          if (client === c) stop()
        })
        await new Promise<void>((resolve, reject) => {
          c.once('connect', () => resolve())
          c.once('error', reject)
        })
        const granted = await c.subscribeAsync(watchFilter.value.trim(), { qos: 0 })
        const refused = granted.some((g) => g.qos === 128)
        watchStatus.textContent = refused
          ? `The hub refused the subscription to ${watchFilter.value}.`
          : `Watching ${watchFilter.value} as ${creds.username}.`
        watchButton.textContent = 'Stop watching'
      } catch (err) {
        stop()
        watchStatus.textContent = `Could not watch: ${errorText(err)}`
      }
    },
  )

  void loadTree()
  watchList.append(h('tr', null, h('td', { colspan: 5, class: 'empty' }, 'No messages yet.')))
  const el = h(
    'div',
    null,
    h('h1', null, 'MQTT explorer'),
    h(
      'div',
      { class: 'split' },
      section('Retained topics', treeForm, treeBox),
      section('Message', payloadBox),
    ),
    ctx.canWrite ? section('Publish', publishForm) : null,
    section(
      'Subscribe and watch',
      ctx.canWrite
        ? watchForm
        : h('p', { class: 'muted' }, 'Watching needs an admin (it creates a watcher device).'),
      watchStatus,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'stack' },
          h('caption', { class: 'sr-only' }, 'Watched messages, newest first'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Time', 'Topic', 'QoS', 'Retained', 'Payload'].map((x) => h('th', { scope: 'col' }, x)),
            ),
          ),
          watchList,
        ),
      ),
    ),
  )
  return { title: 'MQTT explorer', el, dispose: d.dispose }
}

function prettyPayload(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2)
  } catch {
    return text
  }
}
