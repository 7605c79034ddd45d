import { asText, lookup, render } from '../actions/hook-template.ts'
import { Errors } from '../errors.ts'
import { bodyText } from '../util/utf8.ts'
import type { DeliveryBody } from './body.ts'
import { describeBody } from './body.ts'
import type { HookDefinition } from './schema.ts'

/** The MQTT message a delivery becomes. */
export interface HookMessage {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
}

interface MappingInput {
  body: DeliveryBody
  query: URLSearchParams
  headers: Headers
  ts: number
}

// A substituted value is one topic level: separators and wildcards from a body must not
// reach other topics (or the ACL's view of them).
const escapeLevel = (text: string) => text.replaceAll('\u0000', '_').replace(/[/+#]/g, '_')

/** Applies a hook's mapping: topic template, then payload (raw, one field, or a template). */
export function mapDelivery(hook: HookDefinition, input: MappingInput): HookMessage {
  const text = bodyText(input.body.raw)
  const context: Record<string, unknown> = {
    name: hook.name,
    body: input.body.value ?? text,
    query: Object.fromEntries(input.query),
    header: Object.fromEntries([...input.headers].map(([k, v]) => [k.toLowerCase(), v])),
    ts: input.ts,
  }
  const topic = render(hook.topic, context, { escape: escapeLevel })
  if (topic.missing.length)
    throw Errors.hookMapping(`topic placeholder ${topic.missing.join(', ')} has no value`)
  return {
    topic: topic.text,
    payload: payloadOf(hook, input.body, context),
    qos: hook.qos,
    retain: hook.retain,
  }
}

function payloadOf(hook: HookDefinition, body: DeliveryBody, context: Record<string, unknown>): Buffer {
  switch (hook.payload) {
    case 'raw':
      return Buffer.from(body.raw)
    case 'field': {
      // Source system (e): a text/plain body publishes the text itself.
      if (body.value === undefined) return Buffer.from(body.raw)
      const value = lookup(body.value, hook.field!.split('.'))
      if (value === undefined)
        throw Errors.hookMapping(`body has no field ${hook.field}; it was read as ${describeBody(body)}`)
      return Buffer.from(asText(value), 'utf8')
    }
    case 'template':
      return Buffer.from(render(hook.template ?? '', context).text, 'utf8')
  }
}
