import mqtt, { type MqttClient } from 'mqtt'
import { waitFor } from '../helpers/wait.ts'

/**
 * HMAC-SHA256 of `data` computed by Debian's openssl, independently of our code:
 * `openssl dgst -sha256 -hmac <secret>` reading the data from stdin.
 */
export function opensslHmac(
  secret: string,
  data: string | Uint8Array,
  encoding: 'hex' | 'base64' = 'hex',
): string {
  const res = Bun.spawnSync(['openssl', 'dgst', '-sha256', '-hmac', secret], {
    stdin: typeof data === 'string' ? Buffer.from(data) : data,
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (res.exitCode !== 0) throw new Error(`openssl failed: ${res.stderr.toString()}`)
  // "SHA2-256(stdin)= <hex>" (older builds print "(stdin)= <hex>")
  const hex = res.stdout.toString().trim().split('= ').at(-1)!
  return encoding === 'hex' ? hex : Buffer.from(hex, 'hex').toString('base64')
}

export interface Received {
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
}

/** A real MQTT subscriber (mqtt.js) that collects what it receives. */
export async function subscriber(
  url: string,
  filter: string,
): Promise<
  { client: MqttClient; messages: Received[]; next(n?: number): Promise<Received[]> } & AsyncDisposable
> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, clientId: `sub-${crypto.randomUUID()}` })
  const messages: Received[] = []
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload, qos: packet.qos, retain: packet.retain }),
  )
  await client.subscribeAsync(filter, { qos: 1 })
  return {
    client,
    messages,
    next: (n = 1) => waitFor(() => messages.length >= n && messages.slice(0, n), { what: `${n} message(s)` }),
    [Symbol.asyncDispose]: () => client.endAsync(true),
  }
}

/** A POST to the hub with raw bytes. */
export function post(url: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', body: typeof body === 'string' ? body : Buffer.from(body), headers })
}
