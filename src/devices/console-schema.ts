import { z } from 'zod'
import type {
  GroupAddResult,
  GroupCreateResult,
  GroupDeleteResult,
  GroupSubtractResult,
  SendResult,
} from '../bus/payloads.ts'
import { deviceListSchema, groupIdSchema } from './groups.ts'
import { messageValueSchema, pushOptionSchema } from './messaging.ts'
import type { DeviceGroupInfo, MessageView } from './schema.ts'

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
 * The bodies of source (c)'s console actions over `/ws`, with its action and field names
 * (`groupName`, `groupDesc`, `deviceList`, `groupId`, `message`).
 */
export const deviceConsoleBodies = {
  createDeviceGroup: z.strictObject({
    groupName: z.string().trim().min(1).max(200),
    groupDesc: z.string().max(2000).nullish(),
    deviceList: deviceListSchema.default([]),
  }),
  addDeviceGroup: z.strictObject({ groupId: groupIdSchema, deviceList }),
  subtractDeviceGroup: z.strictObject({ groupId: groupIdSchema, deviceList }),
  deleteDeviceGroup: z.strictObject({ groupId: groupIdSchema }),
  sendUnicastMsg: z.strictObject({ ...sendFields, deviceId: z.string().min(1).max(64) }),
  sendMulticastMsg: z.strictObject({ ...sendFields, deviceList }),
  sendBroadcastMsg: z.strictObject(sendFields),
  sendGroupMsg: z.strictObject({ ...sendFields, groupId: groupIdSchema }),
  listDeviceGroups: z.strictObject({}),
  getDeviceGroup: z.strictObject({ groupId: groupIdSchema }),
  getMessage: z.strictObject({ messageId: z.string().min(1).max(100) }),
}

type Bodies = typeof deviceConsoleBodies

/** What each device action answers. */
interface DeviceConsoleResults {
  createDeviceGroup: GroupCreateResult
  addDeviceGroup: GroupAddResult
  subtractDeviceGroup: GroupSubtractResult
  deleteDeviceGroup: GroupDeleteResult
  sendUnicastMsg: SendResult
  sendMulticastMsg: SendResult
  sendBroadcastMsg: SendResult
  sendGroupMsg: SendResult
  listDeviceGroups: { items: DeviceGroupInfo[] }
  getDeviceGroup: DeviceGroupInfo & { devices: string[] }
  getMessage: MessageView
}

/** The device actions by name: the body a console sends and the `data` of the reply. */
export type DeviceConsoleActions = {
  [A in keyof Bodies]: { body: z.input<Bodies[A]>; result: DeviceConsoleResults[A] }
}
