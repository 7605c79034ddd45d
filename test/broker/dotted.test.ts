import { describe, expect, it } from 'bun:test'
import type { ISubackPacket } from 'mqtt-packet'
import type { TestHub } from '../helpers/hub.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, nextMessage } from './mqtt-fixture.ts'
import { brokerClients, openBroker, rawConnected } from './raw-mqtt.ts'

/**
 * A subscriber nobody here wrote, in a child process, printing "topic payload" per message and
 * exiting after `count` of them.
 */
function externalSub(t: TestHub, clientId: string, cmd: string[]) {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
  return {
    subscribed: (topic: string) =>
      waitFor(() => brokerClients(t.hub.broker)[clientId]?.subscriptions?.[topic] !== undefined, {
        what: `${clientId} subscribed to ${topic}`,
      }),
    /** Every line it printed, once it has received its messages and exited. */
    async lines(): Promise<string[]> {
      const timer = setTimeout(() => proc.kill(), 10_000)
      const out = await new Response(proc.stdout).text()
      clearTimeout(timer)
      await proc.exited
      return out.trim().split('\n')
    },
    [Symbol.asyncDispose]: async () => {
      proc.kill()
      await proc.exited
    },
  }
}

/** Debian's mosquitto_sub; it checks filters itself and will not send `webos.smarthome.#`. */
const mosquittoSub = (t: TestHub, clientId: string, filter: string, count: number) =>
  externalSub(t, clientId, [
    'mosquitto_sub',
    '-h',
    '127.0.0.1',
    '-p',
    String(t.mqttPort),
    '-i',
    clientId,
    '-t',
    filter,
    '-v',
    '-C',
    String(count),
  ])

/**
 * Debian's python3-paho-mqtt as the firmware. paho checks filters the way MQTT defines them and
 * would refuse `webos.smarthome.#`; the firmware, written against RabbitMQ, sent it as is, so the
 * check is switched off here.
 */
const PAHO_SUB = `
import sys, paho.mqtt.client as mqtt
mqtt.Client._filter_wildcard_len_check = staticmethod(lambda sub: mqtt.MQTT_ERR_SUCCESS)
port, client_id, flt, count = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
seen = []
def on_connect(c, u, f, rc): c.subscribe(flt, qos=0)
def on_message(c, u, m):
    print(m.topic + " " + m.payload.decode(), flush=True)
    seen.append(m)
    if len(seen) >= count: c.disconnect()
c = mqtt.Client(client_id=client_id)
c.on_connect, c.on_message = on_connect, on_message
c.connect("127.0.0.1", port)
c.loop_forever()
`
const pahoSub = (t: TestHub, clientId: string, filter: string, count: number) =>
  externalSub(t, clientId, [
    '/usr/bin/python3',
    '-c',
    PAHO_SUB,
    String(t.mqttPort),
    clientId,
    filter,
    String(count),
  ])

const publish = (t: TestHub, topic: string, payload: string) => t.hub.broker.publish({ topic, payload })

describe('dotted topics, RabbitMQ style', () => {
  it('delivers webos.smarthome.info and the hub’s webos/smarthome/info to a firmware subscribed to webos.smarthome.#', async () => {
    await using t = await startTestHub({ mqtt: { ...openBroker, dottedTopics: true } })
    await using firmware = pahoSub(t, 'firmware', 'webos.smarthome.#', 2)
    await using cli = mosquittoSub(t, 'cli', 'webos.smarthome.info', 2)
    await firmware.subscribed('webos/smarthome/#')
    await cli.subscribed('webos/smarthome/info')

    await using app = await connect(t.mqttUrl, { clientId: 'app' })
    await app.publishAsync('webos.smarthome.info', '{"power":"on"}', { qos: 1 })
    await publish(t, 'webos/smarthome/info', '{"power":"off"}')

    // Deliveries carry `/`, as RabbitMQ's do. (Aedes acknowledges a QoS 1 PUBLISH before routing
    // it, so the two may arrive in either order.)
    const expected = ['webos/smarthome/info {"power":"off"}', 'webos/smarthome/info {"power":"on"}']
    expect((await firmware.lines()).sort()).toEqual(expected)
    expect((await cli.lines()).sort()).toEqual(expected)
  })

  it('rewrites dots only for the client ids and usernames listed in mqtt.dottedTopicsClients', async () => {
    await using t = await startTestHub({
      mqtt: { ...openBroker, dottedTopicsClients: ['firmware-1'] },
    })
    await using firmware = pahoSub(t, 'firmware-1', 'webos.smarthome.#', 1)
    await firmware.subscribed('webos/smarthome/#')
    // An unlisted client keeps MQTT's meaning: a dot is an ordinary character.
    await using other = await connect(t.mqttUrl, { clientId: 'other' })
    await other.subscribeAsync('webos.smarthome.info')
    expect(Object.keys(brokerClients(t.hub.broker).other?.subscriptions ?? {})).toEqual([
      'webos.smarthome.info',
    ])

    const literal = nextMessage(other, 'webos.smarthome.info')
    await other.publishAsync('webos.smarthome.info', 'literal')
    expect((await literal).payload).toBe('literal')

    await publish(t, 'webos/smarthome/info', 'from the hub')
    expect(await firmware.lines()).toEqual(['webos/smarthome/info from the hub'])
  })

  it('leaves dots alone when the option is off, where webos.smarthome.# is a malformed filter', async () => {
    await using t = await startTestHub({ mqtt: openBroker })
    await using raw = await rawConnected(t.mqttPort, 'plain')
    raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'webos.smarthome.#', qos: 0 }] })
    // [MQTT-4.7.1-2] `#` must be a whole level (mqtt.js would not even send it).
    expect((await raw.next<ISubackPacket>('suback')).granted).toEqual([128])
    await using c = await connect(t.mqttUrl, { clientId: 'literal' })
    await c.subscribeAsync('webos.smarthome.info')
    const got = nextMessage(c, 'webos.smarthome.info')
    await c.publishAsync('webos.smarthome.info', 'x')
    expect((await got).payload).toBe('x')
  })
})
