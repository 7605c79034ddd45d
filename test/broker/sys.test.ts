import { describe, expect, it } from 'bun:test'
import type { MqttClient } from 'mqtt'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect } from './mqtt-fixture.ts'
import { openBroker } from './raw-mqtt.ts'

/** Anonymous clients may also read `$SYS` (a `#` rule does not reach `$` topics, [MQTT-4.7.2-1]). */
const sysReader = {
  ...openBroker,
  anonymousAcl: [...openBroker.anonymousAcl, { pattern: '$SYS/#', access: 'read' as const }],
}

/** The latest payload seen on each `$SYS/broker/…` topic. */
function sysValues(client: MqttClient): Map<string, string> {
  const values = new Map<string, string>()
  client.on('message', (topic, payload) => {
    if (topic.startsWith('$SYS/broker/')) values.set(topic, payload.toString())
  })
  return values
}

describe('broker statistics as $SYS/broker/…', () => {
  it('answers a new $SYS subscriber at once with the current figures', async () => {
    // An hour: nothing here comes from the periodic publication.
    await using t = await startTestHub({ mqtt: { ...sysReader, sysInterval: '1h' } })
    await using c = await connect(t.mqttUrl, { clientId: 'dashboard' })
    const values = sysValues(c)
    await c.subscribeAsync('$SYS/broker/#')
    await waitFor(() => values.has('$SYS/broker/load/bytes/sent/1min'), { what: 'the snapshot' })
    expect(values.get('$SYS/broker/clients/connected')).toBe('1')
    expect(values.get('$SYS/broker/version')).toStartWith('hearth ')
    expect(values.get('$SYS/broker/uptime')).toMatch(/^\d+ seconds$/)
    expect([...values.keys()].sort()).toEqual([
      '$SYS/broker/bytes/received',
      '$SYS/broker/bytes/sent',
      '$SYS/broker/clients/connected',
      '$SYS/broker/load/bytes/received/1min',
      '$SYS/broker/load/bytes/sent/1min',
      '$SYS/broker/load/messages/received/1min',
      '$SYS/broker/load/messages/sent/1min',
      '$SYS/broker/messages/received',
      '$SYS/broker/messages/sent',
      '$SYS/broker/publish/messages/dropped',
      '$SYS/broker/retained messages/count',
      '$SYS/broker/uptime',
      '$SYS/broker/version',
    ])
  })

  it('counts clients, messages, bytes and retained messages, and publishes them every mqtt.sysInterval', async () => {
    await using t = await startTestHub({ mqtt: { ...sysReader, sysInterval: '50ms' } })
    await using sub = await connect(t.mqttUrl, { clientId: 'sub' })
    await sub.subscribeAsync('data/#', { qos: 1 })
    await using pub = await connect(t.mqttUrl, { clientId: 'pub' })
    await pub.publishAsync('data/a', 'one', { qos: 1 })
    await pub.publishAsync('data/b', 'two', { qos: 1, retain: true })
    await pub.publishAsync('data/c', 'three', { qos: 1, retain: true })
    // Aedes acknowledges a QoS 1 PUBLISH before routing it: wait for the routing to be counted.
    await waitFor(() => t.hub.sys.stats().messagesReceived === 3 && t.hub.sys.stats().messagesSent === 3, {
      what: 'three messages in and out',
    })
    const s = t.hub.sys.stats()
    expect(s).toMatchObject({
      clientsConnected: 2,
      messagesReceived: 3,
      messagesSent: 3,
      messagesDropped: 0,
      retainedMessages: 2,
      loadMessagesReceivedPerMinute: 3,
      loadMessagesSentPerMinute: 3,
    })
    expect(s.bytesReceived).toBeGreaterThan(0)
    expect(s.bytesSent).toBeGreaterThan(0)
    expect(s.loadBytesReceivedPerMinute).toBe(s.bytesReceived)

    // An empty retained payload deletes it [MQTT-3.3.1-10].
    await pub.publishAsync('data/c', '', { qos: 1, retain: true })
    await waitFor(() => t.hub.sys.stats().retainedMessages === 1, { what: 'the retained delete' })

    const values = sysValues(sub)
    await sub.subscribeAsync('$SYS/broker/messages/received')
    await pub.publishAsync('data/d', 'four', { qos: 1 })
    await waitFor(() => values.get('$SYS/broker/messages/received') === '5', {
      what: 'a periodic publication',
    })
  })

  it('reports uptime and a load that covers the last minute only', async () => {
    let clock = Date.now()
    await using t = await startTestHub({ mqtt: { ...sysReader, sysInterval: '20ms' } }, { now: () => clock })
    await using c = await connect(t.mqttUrl, { clientId: 'c' })
    const values = sysValues(c)
    await c.subscribeAsync('$SYS/broker/uptime')
    // Published at +30 s: samples taken at the start (which count none of them) then lie more than a
    // minute before +61 s, and no sample can fall between two of the publishes at the same instant.
    clock += 30_000
    for (let i = 0; i < 3; i++) await c.publishAsync('x', String(i), { qos: 1 })
    expect(t.hub.sys.stats().loadMessagesReceivedPerMinute).toBe(3)

    clock += 31_000
    // A sample is taken at each publication: wait for one that sees the new time.
    await waitFor(() => values.get('$SYS/broker/uptime') === '61 seconds', { what: 'a sample at +61 s' })
    expect(t.hub.sys.stats().loadMessagesReceivedPerMinute).toBe(3)
    clock += 61_000
    expect(t.hub.sys.stats()).toMatchObject({
      uptimeSeconds: 122,
      messagesReceived: 3,
      loadMessagesReceivedPerMinute: 0,
    })
  })
})
