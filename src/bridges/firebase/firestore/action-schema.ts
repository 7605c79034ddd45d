import { z } from 'zod'
import { badPlaceholders } from '../../../actions/template.ts'

const template = () =>
  z.string().superRefine((text, ctx) => {
    for (const p of badPlaceholders(text))
      ctx.addIssue({ code: 'custom', message: `{{${p}}} is not a JSON path` })
  })

/**
 * `firestore`: writes one document, delivered through the outbox. Source (a)
 * logged appliance changes to `appliance_alarm` and kept the newest 20 (`keepNewest = 20`).
 */
export const firestoreActionSchema = z.strictObject({
  type: z.literal('firestore'),
  collection: z
    .string()
    .regex(/^[^/]+(\/[^/]+\/[^/]+)*$/, 'a collection path: name or parent/doc/name')
    .describe('collection the document is written to'),
  document: template()
    .min(1)
    .optional()
    .describe('document id ({{path}} placeholders); default: a new random id'),
  data: z
    .record(z.string(), z.unknown())
    .describe('the document fields; string values are templates ({{path}} placeholders)'),
  keepNewest: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe('afterwards delete all but the newest N documents of the collection (by creation time)'),
})

export type FirestoreAction = z.infer<typeof firestoreActionSchema>
