import type { PageFactory } from './ctx.ts'
import { devicePage } from './pages/device.ts'
import { devicesPage } from './pages/devices.ts'
import { explorerPage } from './pages/explorer.ts'
import { groupsPage } from './pages/groups.ts'
import { overviewPage } from './pages/overview.ts'
import { pushPage } from './pages/push.ts'
import { rulesPage } from './pages/rules.ts'
import { schedulesPage } from './pages/schedules.ts'
import { settingsPage } from './pages/settings.ts'
import { telemetryPage } from './pages/telemetry.ts'
import { timelinePage } from './pages/timeline.ts'
import { webhooksPage } from './pages/webhooks.ts'

export interface Route {
  /** First level of the hash: `#/devices/…` → `devices`; '' is the overview. */
  name: string
  label: string
  page: PageFactory
  /** Page for `#/<name>/<param>…` (a detail view). */
  detail?: PageFactory
}

/** The console's sections, in navigation order. */
export const ROUTES: Route[] = [
  { name: '', label: 'Overview', page: overviewPage },
  { name: 'timeline', label: 'Live timeline', page: timelinePage },
  { name: 'devices', label: 'Devices', page: devicesPage, detail: devicePage },
  { name: 'groups', label: 'Groups & messages', page: groupsPage },
  { name: 'telemetry', label: 'Telemetry', page: telemetryPage },
  { name: 'rules', label: 'Rules', page: rulesPage },
  { name: 'schedules', label: 'Schedules', page: schedulesPage },
  { name: 'webhooks', label: 'Webhooks', page: webhooksPage },
  { name: 'push', label: 'Push', page: pushPage },
  { name: 'mqtt', label: 'MQTT explorer', page: explorerPage },
  { name: 'settings', label: 'Settings', page: settingsPage },
]

/** `#/devices/pi-1` → the devices route with params `['pi-1']`; unknown hashes → the overview. */
export function resolve(hash: string): { route: Route; params: string[] } {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent)
  const route = ROUTES.find((r) => r.name === (parts[0] ?? '')) ?? ROUTES[0]!
  return { route, params: route.name ? parts.slice(1) : [] }
}
