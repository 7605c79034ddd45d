import { z } from 'zod'
import { badPlaceholders } from '../../actions/template.ts'
import { isValidFilter } from '../../broker/topic-filter.ts'
import { missedSchema, timeZoneSchema } from '../../util/calendar.ts'
import { duration } from '../../util/duration.ts'
import { jsonPathSchema, parseSteps } from '../../util/json-path.ts'
import { serviceAccountSchema } from './auth.ts'

// Not imported from config/schema.ts, which imports this file.
const secret = () => z.string().min(1).meta({ secret: true })
const qos = z.union([z.literal(0), z.literal(1), z.literal(2)])
const template = () =>
  z.string().superRefine((text, ctx) => {
    for (const p of badPlaceholders(text))
      ctx.addIssue({ code: 'custom', message: `{{${p}}} is not a JSON path` })
  })
const jsonPath = () => jsonPathSchema('detail.reported')
const httpUrl = () =>
  z
    .string()
    .refine((u) => /^https?:\/\//i.test(u) && URL.canParse(u), 'an http(s) URL')
    .transform((u) => u.replace(/\/+$/, ''))

/**
 * One mirrored value: a bus event (`event`) or an MQTT message (`topic`) written to `path` in the
 * Realtime Database. Templates and `value` read `{ type, subject, ts, detail }` for an event and
 * `{ topic, levels, payload, text }` for a message (payload: the text, or with `json` the JSON value).
 */
export const rtdbMirrorSchema = z
  .strictObject({
    event: z.string().min(1).optional().describe('a bus event type, e.g. device.reported'),
    subject: z.string().min(1).optional().describe('only events about this subject (a device id)'),
    topic: z
      .string()
      .refine(isValidFilter, 'not a valid MQTT topic filter')
      .optional()
      .describe('an MQTT topic filter; + and # work'),
    path: template()
      .min(1)
      .describe('RTDB path, {{path}} placeholders allowed, e.g. devices/{{subject}}/state'),
    value: jsonPath().optional().describe('what is written: default detail (events) or payload (messages)'),
    template: template().optional().describe('or a text written as a string, placeholders filled'),
    op: z
      .enum(['set', 'update'])
      .default('set')
      .describe('set (PUT) replaces the node; update (PATCH) merges'),
    json: z
      .boolean()
      .default(false)
      .describe('topic: read the payload as JSON (numbers, objects); default: written as its text'),
  })
  .refine((m) => (m.event === undefined) !== (m.topic === undefined), 'give event or topic, exactly one')
  .refine((m) => m.value === undefined || m.template === undefined, 'give value or template, not both')
  .refine((m) => !m.json || m.topic !== undefined, {
    path: ['json'],
    message: 'json reads MQTT payloads: give topic',
  })
  // Without `json` the payload is text, which has no fields: the path would never find a value.
  .refine((m) => m.json || m.topic === undefined || !intoPayload(m.value), {
    path: ['value'],
    message: 'a path into the payload needs json = true',
  })

/** One listened path: every change becomes a `firebase.rtdb.changed` event and, with `topic`, a publish. */
const rtdbListenSchema = z.strictObject({
  path: z.string().min(1).describe('RTDB path streamed with server-sent events'),
  topic: template()
    .min(1)
    .optional()
    .describe('publish each change here; {{path}} (the changed path) and {{relative}} placeholders'),
  qos: qos.default(0),
  retain: z.boolean().default(false),
})

const rtdbConfigSchema = z.strictObject({
  url: httpUrl()
    .optional()
    .describe('database URL, e.g. https://<db>.firebaseio.com; unset: the mirror is off'),
  secret: secret()
    .optional()
    .describe('legacy database secret (sent as auth=); else the service account is used'),
  secretFile: z.string().optional().describe('read firebase.rtdb.secret from this file'),
  mirror: z.array(rtdbMirrorSchema).default([]).describe('hub state written to the database'),
  listen: z.array(rtdbListenSchema).default([]).describe('database paths turned into events and publishes'),
  idleTimeout: duration()
    .default(90_000)
    .describe('a stream silent this long (the database sends keep-alive every 30 s) is reopened'),
})

export const firestoreSchedulesSchema = z.strictObject({
  collection: z
    .string()
    .min(1)
    .optional()
    .describe('collection of source (a) schedule_mode documents; unset: off'),
  // Each pass lists the whole collection, and Firestore bills one read per document returned (at
  // least one per query): 15 s was 5,760 reads per document a day, past the free tier's 50,000 at
  // about nine documents. https://firebase.google.com/docs/firestore/pricing
  pollInterval: duration()
    .refine((ms) => ms >= 50, 'at least 50ms')
    .default(60_000)
    .describe(
      'how often the collection is read for changed documents; each pass costs one Firestore read per document: 1,440 reads per document a day at 1m (free tier: 50,000 reads a day)',
    ),
  topic: z
    .string()
    .min(1)
    .default('webos/smarthome/info')
    .describe('where the 9-character command is published'),
  qos: qos.default(1),
  retain: z.boolean().default(false),
  timezone: timeZoneSchema.optional().describe('zone startTime is read in; default: the config timezone'),
  // No object default: the config template writes every default inline, and TOML has no inline form for it.
  missed: missedSchema
    .optional()
    .describe('runs missed while the hub was down, as in [[schedules]]; default { policy = "skip" }'),
})

const firestoreConfigSchema = z.strictObject({
  url: httpUrl()
    .default('https://firestore.googleapis.com')
    .describe('Firestore REST endpoint (the emulator: http://host:port)'),
  database: z.string().min(1).default('(default)'),
  emulator: z
    .boolean()
    .default(false)
    .describe('send the emulator\'s "Bearer owner" instead of an OAuth token'),
  schedules: firestoreSchedulesSchema.prefault({}),
})

/** `[firebase]`: the Realtime Database mirror and Firestore schedules. */
export const firebaseConfigSchema = z.strictObject({
  projectId: z
    .string()
    .min(1)
    .optional()
    .describe("Firebase project; default: the service account's project_id"),
  serviceAccount: secret()
    .refine(isServiceAccount, 'not a service-account key (JSON with client_email and private_key)')
    .optional()
    .describe('service-account key (JSON text) for OAuth tokens'),
  serviceAccountFile: z.string().optional().describe('read firebase.serviceAccount from this file'),
  timeout: duration().default(10_000).describe('deadline of every Firebase request'),
  rtdb: rtdbConfigSchema.prefault({}),
  firestore: firestoreConfigSchema.prefault({}),
})

export type FirebaseConfig = z.infer<typeof firebaseConfigSchema>
export type RtdbMirror = z.infer<typeof rtdbMirrorSchema>
export type RtdbListen = z.infer<typeof rtdbListenSchema>
export type FirestoreSchedulesConfig = z.infer<typeof firestoreSchedulesSchema>

function isServiceAccount(text: string): boolean {
  try {
    return serviceAccountSchema.safeParse(JSON.parse(text)).success
  } catch {
    return false
  }
}

// A path below `payload` (`payload.temp`, `$.payload[0]`), not `payload` itself.
function intoPayload(path: string | undefined): boolean {
  const steps = path === undefined ? undefined : parseSteps(path)
  return steps !== undefined && steps.length > 1 && steps[0] === 'payload'
}
