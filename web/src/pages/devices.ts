import type { DeviceView, PresetName } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { credentialsPanel } from '../device-snippets.ts'
import { type Column, field, h, replace, section, select, table } from '../dom.ts'
import { ago, dateTime } from '../format.ts'
import { href } from '../href.ts'
import { badge, onSubmit } from '../widgets.ts'

/** The presets the API accepts; a `Record` so that a preset added there fails the type check here. */
const PRESETS: Record<PresetName, string> = {
  'home-assistant': 'Home Assistant',
  zigbee2mqtt: 'Zigbee2MQTT',
  tasmota: 'Tasmota',
  shelly: 'Shelly',
  esphome: 'ESPHome',
}

export const presence = (dv: DeviceView) =>
  !dv.enabled ? badge('disabled', 'off') : dv.online ? badge('online', 'ok') : badge('offline', 'off')

/** Devices: the list with presence (live), and registering a device. */
export function devicesPage(ctx: Ctx): Page {
  const d = disposer()
  let devices: DeviceView[] = []
  const listBox = h('div', { 'aria-live': 'off' })
  const credBox = h('div')

  const columns: Column<DeviceView>[] = [
    { label: 'Device', cell: (x) => h('a', { href: href('devices', x.id) }, x.id) },
    { label: 'Name', cell: (x) => x.name },
    { label: 'Status', cell: (x) => h('span', { 'data-presence': x.id }, presence(x)) },
    {
      label: 'Last seen',
      cell: (x) => h('span', { title: dateTime(x.lastSeen) }, x.online ? 'now' : ago(x.lastSeen)),
    },
    { label: 'Address', cell: (x) => x.lastAddress ?? '—' },
  ]
  const render = () => replace(listBox, table('Devices', columns, devices, 'No devices yet: add one below.'))
  const load = async () => {
    const res = await ctx.attempt('Loading devices', () => ctx.api.get('/devices'))
    if (res) {
      devices = res.items
      render()
    }
  }

  d.add(
    ctx.live.onEvent((e) => {
      if (e.type === 'device.online' || e.type === 'device.offline') {
        const dv = devices.find((x) => x.id === e.detail.device)
        if (dv) {
          dv.online = e.type === 'device.online'
          dv.lastSeen = e.ts
          if (e.type === 'device.online') dv.lastAddress = e.detail.address
          render()
        } else void load()
      }
      if (e.type === 'device.created' || e.type === 'device.removed' || e.type === 'device.renamed')
        void load()
    }),
  )
  // "3 min ago" ages while the page is open.
  d.interval(render, 30_000)

  const id = h('input', {
    name: 'id',
    required: true,
    // The hub's rule for ids (src/devices/registry.ts); no "." since dotted-topic clients split on it.
    pattern: '[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}',
    autocomplete: 'off',
    autocapitalize: 'none',
  })
  const name = h('input', { name: 'name', autocomplete: 'off' })
  const preset = select({ name: 'preset' }, [
    ['', 'None (devices/<id>/# only)'],
    ...Object.entries(PRESETS).map(([value, label]): [string, string] => [value, label]),
  ])
  const form = onSubmit(
    h(
      'form',
      { class: 'inline', 'aria-label': 'Add a device' },
      field(
        'Device id',
        id,
        'up to 64 letters, digits, _ and -, starting with a letter or digit; also its MQTT username',
      ),
      field('Name', name),
      field('Preset', preset, "grants the tool's own topic trees and shows its settings"),
      h('button', { type: 'submit', class: 'primary' }, 'Add device'),
    ),
    async () => {
      const res = await ctx.attempt('Adding the device', () =>
        ctx.api.post('/devices', {
          id: id.value.trim(),
          ...(name.value.trim() ? { name: name.value.trim() } : {}),
          ...(preset.value ? { preset: preset.value } : {}),
        }),
      )
      if (!res) return
      ctx.notify(`Device ${res.device.id} added`)
      form.reset()
      const panel = credentialsPanel(res.credentials, ctx.live.snapshot.hub, ctx.notify, res.settings)
      replace(credBox, panel)
      panel.focus()
      await load()
    },
  )

  void load()
  const el = h(
    'div',
    null,
    h('h1', null, 'Devices'),
    section('All devices', listBox),
    ctx.canWrite ? section('Add a device', form) : null,
    credBox,
  )
  return { title: 'Devices', el, dispose: d.dispose }
}
