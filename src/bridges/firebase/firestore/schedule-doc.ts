import { z } from 'zod'
import { WEEKDAYS } from '../../../util/calendar.ts'
import type { FirestoreSchedulesConfig } from '../config.ts'

// Source (a)'s apps wrote numbers and booleans; its Python read them back loosely (str(), truthiness).
const digit = z.union([z.number().int().min(0).max(9), z.string().regex(/^\d$/)]).transform((v) => String(v))
const flag = z
  .union([z.boolean(), z.literal(0), z.literal(1), z.enum(['0', '1'])])
  .transform((v) => (v === true || v === 1 || v === '1' ? '1' : '0'))

/**
 * A `schedule_mode` document of source (a) (its backend's check_schedule_right and
 * encode_smarthome_protocol): when, and the appliance settings that make up the command.
 */
export const scheduleDocSchema = z
  .looseObject({
    title: z.string().optional(),
    repeat: z.boolean(),
    enabled: z.boolean(),
    startTime: z
      .union([z.string(), z.number().int().min(0)])
      .transform((v) => (typeof v === 'number' ? String(v).padStart(4, '0') : v))
      .pipe(z.string().regex(/^([01]\d|2[0-3])[0-5]\d$/, 'HHMM, 24 h')),
    activeDate: z
      .string()
      .regex(/^\d{4}[.\-/]\d{2}[.\-/]\d{2}/, 'YYYY.MM.DD')
      .optional(),
    daysOfWeek: z.array(z.boolean()).length(7, '7 booleans, Sunday first').optional(),
    // The backend used mode 0 when a document had none.
    modeNum: digit.default('0'),
    airconEnable: flag,
    airconWindPower: digit,
    lightEnable: flag,
    lightBrightness: digit,
    lightColor: digit,
    lightMode: digit,
    windowOpen: flag,
    gasValveEnable: flag,
  })
  .superRefine((d, ctx) => {
    if (!d.repeat && d.activeDate === undefined)
      ctx.addIssue({ code: 'custom', path: ['activeDate'], message: 'required when repeat is false' })
    if (d.repeat && d.daysOfWeek === undefined)
      ctx.addIssue({ code: 'custom', path: ['daysOfWeek'], message: 'required when repeat is true' })
    if (d.repeat && d.daysOfWeek && !d.daysOfWeek.some(Boolean))
      ctx.addIssue({ code: 'custom', path: ['daysOfWeek'], message: 'no day is selected' })
  })

type ScheduleDoc = z.infer<typeof scheduleDocSchema>

/**
 * The 9-character appliance command of source (a): mode, aircon on, wind power, light on,
 * brightness, colour, light mode, window open, gas valve open, one character each, published to
 * `webos.smarthome.info`.
 */
export function applianceCommand(d: ScheduleDoc): string {
  return [
    d.modeNum,
    d.airconEnable,
    d.airconWindPower,
    d.lightEnable,
    d.lightBrightness,
    d.lightColor,
    d.lightMode,
    d.windowOpen,
    d.gasValveEnable,
  ].join('')
}

type DocSchedule =
  | { ok: true; definition: unknown; command: string; oneShot: boolean }
  | { ok: false; reason: string }

/**
 * A document as a hub schedule whose one action publishes its command, checked by `schema` (the
 * scheduler's); or why it cannot be one.
 */
export function scheduleFromDoc(
  id: string,
  docId: string,
  fields: Record<string, unknown>,
  config: FirestoreSchedulesConfig,
  schema: z.ZodType,
): DocSchedule {
  const parsed = scheduleDocSchema.safeParse(fields)
  if (!parsed.success) return { ok: false, reason: describe(parsed.error) }
  const d = parsed.data
  const command = applianceCommand(d)
  const at = `${d.startTime.slice(0, 2)}:${d.startTime.slice(2)}`
  const timing = d.repeat
    ? { kind: 'weekly', days: WEEKDAYS.filter((_, i) => d.daysOfWeek?.[i]), at }
    : // afterRun keep: the fired one-shot stays, marked done, until its document is gone (see schedules.ts).
      {
        kind: 'once',
        at: `${d.activeDate!.slice(0, 4)}-${d.activeDate!.slice(5, 7)}-${d.activeDate!.slice(8, 10)}T${at}`,
        afterRun: 'keep',
      }
  const definition = schema.safeParse({
    id,
    name: d.title ?? docId,
    enabled: d.enabled,
    ...(config.timezone ? { timezone: config.timezone } : {}),
    ...(config.missed ? { missed: config.missed } : {}),
    ...timing,
    actions: [
      { type: 'publish', topic: config.topic, payload: command, qos: config.qos, retain: config.retain },
    ],
  })
  if (!definition.success) return { ok: false, reason: describe(definition.error) }
  return { ok: true, definition: definition.data, command, oneShot: !d.repeat }
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')
}
