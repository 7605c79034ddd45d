import type { Database } from 'bun:sqlite'
import type { BrokerPlugin } from '../broker/hooks.ts'
import type { Bus } from '../bus/bus.ts'
import type { DeviceUpstream } from '../bus/payloads.ts'
import type { Client, Message } from '../mqtt/types.ts'
import { bodyText } from '../util/utf8.ts'
import type { DeviceTopic } from './topics.ts'

interface UpstreamOptions {
  db: Database
  bus: Bus
  outbox: DeviceTopic
  now?: () => number
}

/** A payload as a console can show it: JSON when it parses, else text, else base64. */
function decodePayload(payload: Buffer | string): Pick<DeviceUpstream, 'payload' | 'encoding'> {
  const text = typeof payload === 'string' ? payload : bodyText(payload)
  if (text === undefined)
    return { payload: Buffer.from(payload as Buffer).toString('base64'), encoding: 'base64' }
  try {
    return { payload: JSON.parse(text), encoding: 'json' }
  } catch {
    return { payload: text, encoding: 'utf8' }
  }
}

/**
 * Upstream messages (source (c)'s `onUpstreamMsgReceived(sender, sendTime, msg)`):
 * a message a registered device publishes on its outbox topic becomes a `device.upstream` event,
 * which the event log stores, consoles show live and rules can react to. Seen after the broker
 * accepted it, so a publish the ACL refused never counts.
 */
export function createUpstream(opts: UpstreamOptions): BrokerPlugin {
  const now = opts.now ?? Date.now
  const registered = opts.db.query('SELECT 1 FROM devices WHERE id = ?')
  return {
    name: 'device-upstream',
    published(packet: Message, client: Client | null) {
      const device = opts.outbox.deviceIn(packet.topic)
      if (!device || !registered.get(device)) return
      const detail: DeviceUpstream = {
        device,
        sendTime: now(),
        topic: packet.topic,
        ...decodePayload(packet.payload),
        clientId: client?.id ?? null,
      }
      opts.bus.emit('device.upstream', detail, { subject: device })
    },
  }
}
