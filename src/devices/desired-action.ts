import { z } from 'zod'
import { template } from '../actions/schema.ts'

/** Sets part of a device's desired state; carried out by the device state service. */
export const setDesiredActionSchema = z.strictObject({
  type: z.literal('setDesired'),
  device: template().min(1).describe('device id; {{path}} placeholders allowed'),
  state: z.record(z.string(), z.unknown()),
})

export type SetDesiredAction = z.infer<typeof setDesiredActionSchema>
