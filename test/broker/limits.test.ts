import { describe, expect, it } from 'bun:test'
import mqttPacket from 'mqtt-packet'
import type { Broker } from '../../src/broker/broker.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { connackCode, connect, nextMessage } from './mqtt-fixture.ts'
import { brokerClients, openBroker, rawConnected } from './raw-mqtt.ts'

/** High inbound limits, so a test of one limit is not slowed down by another. */
const fast = { inboundMessagesPerSecond: 1_000_000, inboundBytesPerSecond: 1_000_000_000 }

/** Bytes the hub holds for a connected client and the network has not taken yet (in process). */
const pendingBytes = (broker: Broker, clientId: string) =>
  (
    broker.clients().find((c) => c.id === clientId) as unknown as { pendingBytes(): number } | undefined
  )?.pendingBytes()

/** `n` QoS 0 PUBLISH packets of `size` payload bytes, as one buffer. */
function publishes(topic: string, n: number, size: number): Buffer {
  const one = mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload: Buffer.alloc(size, 120),
    qos: 0,
    retain: false,
    dup: false,
  })
  return Buffer.concat(Array.from({ length: n }, () => one))
}

describe('no client can take the hub down', () => {
  it('disconnects only the client that sends a packet larger than mqtt.maxPacketSize', async () => {
    await using t = await startTestHub({ mqtt: { ...openBroker, maxPacketSize: 1024 } })
    await using other = await connect(t.mqttUrl, { clientId: 'other' })
    await other.subscribeAsync('big')
    await using raw = await rawConnected(t.mqttPort, 'oversize')
    // Only the fixed header of the 2 KiB packet is sent: the hub must not wait for the body.
    const packet = mqttPacket.generate({
      cmd: 'publish',
      topic: 'big',
      payload: Buffer.alloc(2048),
      qos: 0,
      retain: false,
      dup: false,
    })
    raw.send(packet.subarray(0, 4))
    await raw.closed
    const got = nextMessage(other, 'big')
    await other.publishAsync('big', Buffer.alloc(1000, 65))
    expect((await got).payload).toHaveLength(1000)
  })

  it('disconnects only the client that sends a malformed or truncated packet', async () => {
    await using t = await startTestHub({ mqtt: openBroker })
    await using healthy = await connect(t.mqttUrl, { clientId: 'healthy' })
    await healthy.subscribeAsync('still/up')
    const malformed: Record<string, Buffer> = {
      'SUBSCRIBE with reserved flags 0000 [MQTT-3.8.1-1]': Buffer.from([0x80, 0x06, 0, 1, 0, 1, 0x61, 0]),
      'PUBLISH with both QoS bits set [MQTT-3.3.1-4]': Buffer.from([0x36, 0x05, 0, 1, 0x61, 0, 1]),
      'remaining length longer than four bytes [MQTT-2.2.3]': Buffer.from([
        0x30, 0xff, 0xff, 0xff, 0xff, 0x7f,
      ]),
      'reserved packet type 15': Buffer.from([0xf0, 0x00]),
      'second CONNECT [MQTT-3.1.0-2]': mqttPacket.generate({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        clientId: 'again',
      }),
    }
    for (const [what, bytes] of Object.entries(malformed)) {
      await using raw = await rawConnected(t.mqttPort, 'bad')
      raw.send(bytes)
      await raw.closed.then(() => what)
    }
    // A packet cut short and then the connection closed by the client: nothing of it stays.
    const truncated = await rawConnected(t.mqttPort, 'truncated')
    truncated.send(publishes('still/up', 1, 100).subarray(0, 50))
    truncated.socket.end()
    await truncated.closed
    await waitFor(() => !brokerClients(t.hub.broker).truncated)

    const got = nextMessage(healthy, 'still/up')
    await healthy.publishAsync('still/up', 'yes')
    expect((await got).payload).toBe('yes')
  })

  it('stops reading a publisher over its inbound budget instead of buffering what it sends', async () => {
    await using t = await startTestHub({
      mqtt: { ...openBroker, inboundMessagesPerSecond: 10, inboundBytesPerSecond: 1_000_000 },
    })
    await using sub = await connect(t.mqttUrl, { clientId: 'sub' })
    await sub.subscribeAsync('flood')
    let received = 0
    sub.on('message', () => received++)
    await using pub = await rawConnected(t.mqttPort, 'pub')
    // 16 MiB at once: without the limit the hub reads all of it in a moment.
    pub.send(publishes('flood', 16_384, 1000))
    await waitFor(() => received >= 10, { what: 'the first burst' })
    // What must not happen takes time to show: give the hub a second in which, unthrottled, it
    // would read all 16 MiB.
    const from = performance.now()
    await waitFor(() => performance.now() - from >= 1000, { what: 'a second' })
    expect(t.hub.broker.stats().bytesReceived).toBeLessThan(4 * 1024 * 1024)
    // The rest waits in the publisher's own buffers and the kernel's, not in the hub.
    expect(pub.socket.writableLength).toBeGreaterThan(8 * 1024 * 1024)
  })

  it('lets a throttled publisher through at its configured average rate', async () => {
    const rate = 512 * 1024
    await using t = await startTestHub({
      mqtt: { ...openBroker, inboundMessagesPerSecond: 1_000_000, inboundBytesPerSecond: rate },
    })
    await using sub = await connect(t.mqttUrl, { clientId: 'sub' })
    await sub.subscribeAsync('paced')
    let bytes = 0
    sub.on('message', (_t, payload) => {
      bytes += payload.length
    })
    await using pub = await rawConnected(t.mqttPort, 'pub')
    const started = performance.now()
    // 2 MiB: the bucket holds one second (512 KiB), Aedes may parse about as much in one read
    // before the pause starts; the other 1 MiB or more go at 512 KiB a second.
    pub.send(publishes('paced', 512, 4096))
    await waitFor(() => bytes >= 512 * 4096, { what: 'every message', timeoutMs: 12_000 })
    const seconds = (performance.now() - started) / 1000
    expect(seconds).toBeGreaterThan(1.5)
    expect(seconds).toBeLessThan(8)
  }, 15_000)

  it('drops QoS 0 for a subscriber that does not read, and keeps serving the others', async () => {
    const cap = 1024 * 1024
    await using t = await startTestHub({ mqtt: { ...openBroker, ...fast, maxQueuedBytesPerClient: cap } })
    await using stuck = await rawConnected(t.mqttPort, 'stuck')
    stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'fan/#', qos: 0 }] })
    await stuck.next('suback')
    stuck.socket.pause()
    // The reader is Debian's mosquitto_sub, in its own process so it reads while the hub writes.
    const reader = Bun.spawn(
      [
        'mosquitto_sub',
        '-h',
        '127.0.0.1',
        '-p',
        String(t.mqttPort),
        '-i',
        'reader',
        '-t',
        'fan/#',
        '-F',
        '%t',
        '-C',
        '4096',
      ],
      { stdout: 'pipe', stderr: 'ignore' },
    )
    try {
      await waitFor(() => brokerClients(t.hub.broker).reader?.subscriptions['fan/#'], {
        what: 'reader',
      })
      await using pub = await rawConnected(t.mqttPort, 'pub')
      // 16 MiB: more than the kernel's socket buffers between the hub and the stuck client hold.
      pub.send(publishes('fan/out', 4096, 4096))
      // A bound, generous for a loaded CI machine: the 4096 lines normally arrive in about a second.
      const killer = setTimeout(() => reader.kill(), 20_000)
      const lines = (await new Response(reader.stdout).text()).trim().split('\n')
      clearTimeout(killer)
      expect(lines).toHaveLength(4096)
      await waitFor(() => t.hub.sys.stats().messagesDropped > 0, { what: 'drops for the stuck client' })
      const queued = pendingBytes(t.hub.broker, 'stuck') ?? 0
      // Deliveries that passed the check in the same tick may overshoot the cap, never twice it.
      expect(queued).toBeLessThanOrEqual(2 * cap)
      expect(stuck.isClosed()).toBe(false)
    } finally {
      reader.kill()
      await reader.exited
    }
  }, 20_000)

  it('disconnects a QoS 1 subscriber whose outgoing queue is full', async () => {
    await using t = await startTestHub({
      mqtt: { ...openBroker, ...fast, maxQueuedBytesPerClient: 64 * 1024 },
    })
    await using stuck = await rawConnected(t.mqttPort, 'stuck')
    stuck.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q/#', qos: 1 }] })
    await stuck.next('suback')
    stuck.socket.pause()
    await using pub = await connect(t.mqttUrl, { clientId: 'pub' })
    const payload = Buffer.alloc(4096)
    for (let i = 0; i < 4096 && brokerClients(t.hub.broker).stuck; i++) {
      await pub.publishAsync('q/1', payload, { qos: 1 })
    }
    await waitFor(() => !brokerClients(t.hub.broker).stuck, { what: 'the stuck client to be dropped' })
  })

  it('answers CONNACK 3 beyond mqtt.maxConnections and accepts again once one leaves', async () => {
    await using t = await startTestHub({ mqtt: { ...openBroker, maxConnections: 2 } })
    const first = await connect(t.mqttUrl, { clientId: 'one' })
    await using _second = await connect(t.mqttUrl, { clientId: 'two' })
    expect(await connackCode(t.mqttUrl, { clientId: 'three' })).toBe(3)
    await first.endAsync()
    await waitFor(() => !brokerClients(t.hub.broker).one)
    await waitFor(async () => (await connackCode(t.mqttUrl, { clientId: 'four' })) === 0, {
      what: 'a free connection slot',
    })
  })

  it('answers CONNACK 3 to an address that connects faster than mqtt.connectRatePerAddress', async () => {
    let clock = Date.now()
    await using t = await startTestHub(
      { mqtt: { ...openBroker, connectRatePerAddress: 3 } },
      { now: () => clock },
    )
    const codes: number[] = []
    for (let i = 0; i < 5; i++) codes.push(await connackCode(t.mqttUrl, { clientId: `c${i}` }))
    expect(codes).toEqual([0, 0, 0, 3, 3])
    clock += 1000
    expect(await connackCode(t.mqttUrl, { clientId: 'later' })).toBe(0)
  })
})
