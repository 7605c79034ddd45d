import type { Database } from 'bun:sqlite'
import { createConnection } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { createDevice, type DeviceCredentials } from '../../src/devices/registry.ts'
import type { EventMap, EventType, HubEvent } from '../../src/protocol.ts'
import type { TestHub } from '../helpers/hub.ts'

/** An mqtt.js client that disconnects when the test's scope ends. */
export type Client = MqttClient & AsyncDisposable

/**
 * Connects without retries; `await using c = await connect(...)`. `before` runs on the client
 * before CONNACK (listeners that must not miss what comes with it).
 */
export async function connect(
  url: string,
  opts: IClientOptions = {},
  before?: (client: MqttClient) => void,
): Promise<Client> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts })
  before?.(client)
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve())
    client.once('error', (err) => {
      client.end(true)
      reject(err)
    })
  })
  return Object.assign(client, {
    [Symbol.asyncDispose]: async () => {
      await client.endAsync(true)
    },
  })
}

/**
 * The CONNACK return code the hub answers with (0 when accepted; the client is closed either way).
 * `localAddress` picks the source address (127.0.0.2 …), which mqtt.js itself does not pass on.
 */
export async function connackCode(
  url: string,
  opts: IClientOptions & { localAddress?: string } = {},
): Promise<number> {
  const { localAddress, ...rest } = opts
  const options = { reconnectPeriod: 0, connectTimeout: 10_000, ...rest }
  const client = localAddress
    ? new mqtt.MqttClient(() => {
        const u = new URL(url)
        return createConnection({ host: u.hostname, port: Number(u.port), localAddress })
      }, options)
    : mqtt.connect(url, options)
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
      client.once('close', () => reject(new Error('closed before CONNACK')))
    })
    return 0
  } catch (err) {
    const code = (err as { code?: unknown }).code
    if (typeof code === 'number') return code
    throw err
  } finally {
    await client.endAsync(true)
  }
}

/** Registers a device in the hub's database; its password, shown once. */
export async function addDevice(db: Database, id: string, name?: string): Promise<DeviceCredentials> {
  return (await createDevice(db, { id, name })).credentials
}

/** Credentials as mqtt.js options. */
export const login = (c: DeviceCredentials): IClientOptions => ({
  username: c.username,
  password: c.password,
})

/** Collects every bus event of one type from now on. */
export function collect<K extends EventType>(t: TestHub, type: K): HubEvent<K>[] {
  const seen: HubEvent<K>[] = []
  const owner = `test-${type}-${crypto.randomUUID()}`
  t.hub.bus.on(owner, type, (e) => seen.push(e))
  return seen
}

export type Detail<K extends EventType> = EventMap[K]

/** Resolves with the next message on `topic` (subscribing is the caller's job). */
export function nextMessage(
  client: MqttClient,
  topic: string,
  timeoutMs = 10_000,
): Promise<{ payload: string; retain: boolean; qos: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('message', on)
      reject(new Error(`no message on ${topic} within ${timeoutMs} ms`))
    }, timeoutMs)
    const on = (t: string, payload: Buffer, packet: { retain: boolean; qos: number }) => {
      if (t !== topic) return
      clearTimeout(timer)
      client.off('message', on)
      resolve({ payload: payload.toString(), retain: packet.retain, qos: packet.qos })
    }
    client.on('message', on)
  })
}

/** The QoS the hub grants a SUBSCRIBE to `filter`, 128 when refused [MQTT-3.9.3]. */
export async function grantedQos(client: MqttClient, filter: string): Promise<number> {
  // mqtt.js rejects a SUBACK holding 0x80; the packet is on the error.
  const codes = await client.subscribeAsync(filter, { qos: 1 }).then(
    (res) => res.map((g) => g.qos),
    (err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [-1],
  )
  return codes[0] ?? -1
}

/** Runs a client program to its end (bounded) and returns its exit code and output. */
export async function run(
  cmd: string[],
  timeoutMs = 15_000,
): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', timeout: timeoutMs, killSignal: 'SIGKILL' })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, out, err }
}
