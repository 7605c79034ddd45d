import type { Database } from 'bun:sqlite'
import { type DeviceConsoleActions, deviceConsoleBodies } from '../../../devices/console-schema.ts'
import type { GroupService } from '../../../devices/group-service.ts'
import { getGroup, listGroups } from '../../../devices/groups.ts'
import { viewMessage } from '../../../devices/message-store.ts'
import type { Messaging, SendTarget } from '../../../devices/messaging.ts'
import { acceptMessage, type MessageFields } from '../../routes/messages.ts'
import { found } from '../../routes/route-builders.ts'
import { consoleAction, type TypedConsoleActions } from '../channel.ts'

interface DeviceConsoleDeps {
  db: Database
  groups: GroupService
  messaging: Messaging
}

/**
 * Source (c)'s console actions over `/ws`, with its action and field names
 * (`groupName`, `groupDesc`, `deviceList`, `groupId`, `message`). The reply goes to the caller;
 * the result is also an event on the bus, which every console receives.
 */
export function deviceConsoleActions(deps: DeviceConsoleDeps): TypedConsoleActions<DeviceConsoleActions> {
  const { groups, messaging } = deps
  const send = (target: SendTarget, body: MessageFields, by: string) =>
    acceptMessage(messaging, target, body, by)

  return {
    createDeviceGroup: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.createDeviceGroup,
      run: (b) =>
        groups.create({ name: b.groupName, description: b.groupDesc ?? null, devices: b.deviceList }),
    }),
    addDeviceGroup: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.addDeviceGroup,
      run: (b) => found(groups.add(b.groupId, b.deviceList), 'group'),
    }),
    subtractDeviceGroup: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.subtractDeviceGroup,
      run: (b) => found(groups.subtract(b.groupId, b.deviceList), 'group'),
    }),
    deleteDeviceGroup: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.deleteDeviceGroup,
      run: (b) => found(groups.remove(b.groupId), 'group'),
    }),

    sendUnicastMsg: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.sendUnicastMsg,
      run: (b, p) => send({ kind: 'unicast', deviceId: b.deviceId }, b, p.id),
    }),
    sendMulticastMsg: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.sendMulticastMsg,
      run: (b, p) => send({ kind: 'multicast', devices: b.deviceList }, b, p.id),
    }),
    sendBroadcastMsg: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.sendBroadcastMsg,
      run: (b, p) => send({ kind: 'broadcast' }, b, p.id),
    }),
    sendGroupMsg: consoleAction({
      scope: 'write',
      body: deviceConsoleBodies.sendGroupMsg,
      run: (b, p) => send({ kind: 'group', groupId: b.groupId }, b, p.id),
    }),

    // Read-only views the console needs next to the actions above.
    listDeviceGroups: consoleAction({
      scope: 'read',
      body: deviceConsoleBodies.listDeviceGroups,
      run: () => ({ items: listGroups(deps.db) }),
    }),
    getDeviceGroup: consoleAction({
      scope: 'read',
      body: deviceConsoleBodies.getDeviceGroup,
      run: (b) => found(getGroup(deps.db, b.groupId), 'group'),
    }),
    getMessage: consoleAction({
      scope: 'read',
      body: deviceConsoleBodies.getMessage,
      run: (b) => found(viewMessage(deps.db, b.messageId, { limit: 500 }), 'message'),
    }),
  }
}
