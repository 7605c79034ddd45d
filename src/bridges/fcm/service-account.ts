import { z } from 'zod'

/**
 * The fields of a Google service-account key file that Hearth uses. `token_uri` comes from the
 * file, so a test's key file can name a local token endpoint.
 */
export const serviceAccountSchema = z.object({
  type: z.literal('service_account'),
  project_id: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY', { message: 'not a PEM private key' }),
  client_email: z.string().min(1),
  private_key_id: z.string().optional(),
  token_uri: z.url({ protocol: /^https?$/ }).default('https://oauth2.googleapis.com/token'),
})

export type ServiceAccount = z.infer<typeof serviceAccountSchema>

/** The service account in `text` (JSON), or why it is not one. */
export function parseServiceAccount(text: string): { account?: ServiceAccount; error?: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { error: 'not JSON: give the service-account key file (serviceAccountFile) or its JSON text' }
  }
  const parsed = serviceAccountSchema.safeParse(json)
  if (!parsed.success)
    return {
      error: `not a service-account key: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ')}`,
    }
  return { account: parsed.data }
}
