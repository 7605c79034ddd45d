import type { Database } from 'bun:sqlite'
import { z } from 'zod'
import type { GroupService } from '../../../devices/group-service.ts'
import { deviceListSchema, getGroup, groupIdSchema, listGroups } from '../../../devices/groups.ts'
import { viewMessage } from '../../../devices/message-store.ts'
import {
  type Messaging,
  messageValueSchema,
  pushOptionSchema,
  type SendTarget,
} from '../../../devices/messaging.ts'
import { Errors } from '../../../errors.ts'
import { type ConsoleActions, consoleAction } from '../channel.ts'

export interface DeviceConsoleDeps {
  db: Database
  groups: GroupService
  messaging: Messaging
}

/** Per-send options every send action takes besides the source system's fields. */
const sendFields = {
  message: messageValueSchema,
  push: pushOptionSchema.optional(),
  ttl: z
    .number()
    .int()
    .min(1)
    .max(30 * 86_400_000)
    .optional(),
}

const deviceList = deviceListSchema.min(1)

/**
 * Source (c)'s console actions over `/ws` (issue 7 point 5), with its action and field names
 * (`groupName`, `groupDesc`, `deviceList`, `groupId`, `message`). The reply goes to the caller;
 * the result is also an event on the bus, which every console receives.
 */
export function deviceConsoleActions(deps: DeviceConsoleDeps): ConsoleActions {
  const { groups, messaging } = deps
  const found = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw Errors.notFound(what)
    return v
  }
  const send = async (
    target: SendTarget,
    body: { message: unknown; push?: { title: string; body: string } | undefined; ttl?: number | undefined },
    by: string,
  ) =>
    found(
      await messaging.send(target, { message: body.message, push: body.push, ttl: body.ttl, by }),
      'group',
    )

  return {
    createDeviceGroup: consoleAction({
      scope: 'write',
      body: z.strictObject({
        groupName: z.string().trim().min(1).max(200),
        groupDesc: z.string().max(2000).nullish(),
        deviceList: deviceListSchema.default([]),
      }),
      run: (b) =>
        groups.create({ name: b.groupName, description: b.groupDesc ?? null, devices: b.deviceList }),
    }),
    addDeviceGroup: consoleAction({
      scope: 'write',
      body: z.strictObject({ groupId: groupIdSchema, deviceList: deviceList }),
      run: (b) => found(groups.add(b.groupId, b.deviceList), 'group'),
    }),
    subtractDeviceGroup: consoleAction({
      scope: 'write',
      body: z.strictObject({ groupId: groupIdSchema, deviceList: deviceList }),
      run: (b) => found(groups.subtract(b.groupId, b.deviceList), 'group'),
    }),
    deleteDeviceGroup: consoleAction({
      scope: 'write',
      body: z.strictObject({ groupId: groupIdSchema }),
      run: (b) => found(groups.remove(b.groupId), 'group'),
    }),

    sendUnicastMsg: consoleAction({
      scope: 'write',
      body: z.strictObject({ ...sendFields, deviceId: z.string().min(1).max(64) }),
      run: (b, p) => send({ kind: 'unicast', deviceId: b.deviceId }, b, p.id),
    }),
    sendMulticastMsg: consoleAction({
      scope: 'write',
      body: z.strictObject({ ...sendFields, deviceList: deviceList }),
      run: (b, p) => send({ kind: 'multicast', devices: b.deviceList }, b, p.id),
    }),
    sendBroadcastMsg: consoleAction({
      scope: 'write',
      body: z.strictObject(sendFields),
      run: (b, p) => send({ kind: 'broadcast' }, b, p.id),
    }),
    sendGroupMsg: consoleAction({
      scope: 'write',
      body: z.strictObject({ ...sendFields, groupId: groupIdSchema }),
      run: (b, p) => send({ kind: 'group', groupId: b.groupId }, b, p.id),
    }),

    // Read-only views the console needs next to the actions above.
    listDeviceGroups: consoleAction({
      scope: 'read',
      body: z.strictObject({}),
      run: () => ({ items: listGroups(deps.db) }),
    }),
    getDeviceGroup: consoleAction({
      scope: 'read',
      body: z.strictObject({ groupId: groupIdSchema }),
      run: (b) => found(getGroup(deps.db, b.groupId), 'group'),
    }),
    getMessage: consoleAction({
      scope: 'read',
      body: z.strictObject({ messageId: z.string().min(1).max(100) }),
      run: (b) => found(viewMessage(deps.db, b.messageId, { limit: 500 }), 'message'),
    }),
  }
}
