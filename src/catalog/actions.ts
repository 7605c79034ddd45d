import { z } from 'zod'
import { pushActionSchema } from '../actions/push.ts'
import { eventActionSchema, publishActionSchema } from '../actions/schema.ts'
import { firestoreActionSchema } from '../bridges/firebase/firestore/action-schema.ts'
import { pollActionSchema } from '../bridges/poll/schema.ts'
import { slackActionSchema } from '../bridges/slack/action.ts'
import { webhookActionSchema } from '../bridges/webhook/action.ts'
import { setDesiredActionSchema } from '../devices/desired-action.ts'

/** Every action a rule or a schedule can take, one schema for both, assembled above the bridges that carry them out. */
export const actionSchema = z.discriminatedUnion('type', [
  publishActionSchema,
  eventActionSchema,
  webhookActionSchema,
  pushActionSchema,
  slackActionSchema,
  setDesiredActionSchema,
  pollActionSchema,
  firestoreActionSchema,
])

export type Action = z.infer<typeof actionSchema>
export type ActionInput = z.input<typeof actionSchema>
type ActionType = Action['type']
export type ActionOf<T extends ActionType> = Extract<Action, { type: T }>
