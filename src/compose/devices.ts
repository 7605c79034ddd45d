import type { ActionRunner } from '../actions/runner.ts'
import type { Acl } from '../broker/acl.ts'
import { createDeviceFeatures, DEVICE_TRANSIENT_EVENTS } from '../devices/features.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import { deviceConsoleActions } from '../http/console/actions/devices.ts'
import { createDeviceStateRoutes } from '../http/routes/device-state.ts'
import { createGroupRoutes } from '../http/routes/groups.ts'
import { createMessageRoutes } from '../http/routes/messages.ts'
import type { Client } from '../mqtt/types.ts'
import type { HubBasics, HubModule } from './module.ts'

interface DevicesDeps extends HubBasics {
  requireAuth: RequireAuth
  acl: Acl
  deviceOf(client: Client): string | undefined
  actions: ActionRunner
}

/**
 * Groups, messaging, upstream and device state (source (c)): broker plugins before the broker's
 * persistence, services after the broker so they stop while it still runs, REST and `/ws` actions.
 */
export function composeDevices(deps: DevicesDeps): HubModule {
  const { config, db, bus, log, now, requireAuth } = deps
  const devices = createDeviceFeatures({
    db,
    bus,
    log,
    config: config.devices,
    deviceOf: deps.deviceOf,
    acl: deps.acl,
    actions: deps.actions,
    now,
  })
  const { groups, messaging, state } = devices
  return {
    name: 'devices',
    brokerPlugins: devices.plugins,
    services: devices.services,
    api: [
      { path: '/groups', router: createGroupRoutes({ db, groups, requireAuth }) },
      { path: '/messages', router: createMessageRoutes({ db, messaging, requireAuth }) },
      { path: '/devices', router: createDeviceStateRoutes({ state, requireAuth }) },
    ],
    consoleActions: deviceConsoleActions({ db, groups, messaging }),
    transientEvents: DEVICE_TRANSIENT_EVENTS,
  }
}
