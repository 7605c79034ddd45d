import type { Broker } from '../broker/broker.ts'
import { isServerTopic } from '../util/topic.ts'
import type { ActionExecutor } from './runner.ts'
import type { PublishAction } from './schema.ts'
import { render } from './template.ts'

/** An MQTT message the hub publishes as itself. */
interface MqttMessage {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
}

export type PublishFn = (msg: MqttMessage) => Promise<void>

/** Publishes through the broker in-process, so subscribers, retained storage and the ACL see it like any publish. */
export function brokerPublisher(broker: Pick<Broker, 'publish'>): PublishFn {
  return (msg) => broker.publish(msg)
}

// A value substituted into a topic stays one level: separators and wildcards from data must not
// reach other topics.
export const escapeLevel = (text: string) => text.replace(/[/+#]/g, '_').replaceAll('\0', '_')

/** The message a publish action makes from its context, and the placeholders that had no value. */
export function publishMessage(
  action: PublishAction,
  data: Record<string, unknown>,
): { message: MqttMessage; missing: string[] } {
  const topic = render(action.topic, data, { escape: escapeLevel })
  if (topic.missing.length) throw new Error(`topic placeholder ${topic.missing.join(', ')} has no value`)
  if (!topic.text || isServerTopic(topic.text))
    throw new Error(`"${topic.text}" is not a topic the hub may publish to`)
  const { payload, missing } = payloadOf(action, data)
  return { message: { topic: topic.text, payload, qos: action.qos, retain: action.retain }, missing }
}

function payloadOf(
  action: PublishAction,
  data: Record<string, unknown>,
): { payload: Buffer; missing: string[] } {
  const p = action.payload
  const encoding = action.encoding ?? (typeof p === 'string' || p === undefined ? 'utf8' : 'json')
  if (encoding === 'json') return { payload: Buffer.from(JSON.stringify(p ?? null)), missing: [] }
  const text = typeof p === 'string' ? p : ''
  if (encoding === 'base64') return { payload: Buffer.from(text, 'base64'), missing: [] }
  if (encoding === 'utf8') return { payload: Buffer.from(text, 'utf8'), missing: [] }
  const rendered = render(text, data)
  return { payload: Buffer.from(rendered.text, 'utf8'), missing: rendered.missing }
}

/** `publish`: exact bytes or a rendered template, at the action's QoS and retain flag. */
export function createPublishExecutor(publish: PublishFn): ActionExecutor<PublishAction> {
  return async (action, ctx) => {
    const { message, missing } = publishMessage(action, ctx.data ?? {})
    await publish(message)
    return {
      topic: message.topic,
      bytes: message.payload.length,
      qos: message.qos,
      retain: message.retain,
      ...(missing.length ? { missing } : {}),
    }
  }
}
