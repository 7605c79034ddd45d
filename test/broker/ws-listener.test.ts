import { describe, expect, it } from 'bun:test'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { connect, nextMessage } from './mqtt-fixture.ts'
import { brokerClients, openBroker } from './raw-mqtt.ts'

const anonymous = { mqtt: openBroker }

/** Opens a raw WebSocket and resolves once it is open (or rejects when refused). */
function openWs(url: string, protocols: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols)
    ws.onopen = () => resolve(ws)
    ws.onerror = () => reject(new Error('websocket refused'))
  })
}

describe('MQTT over WebSocket at /mqtt', () => {
  it('carries publishes both ways between an mqtt.js WebSocket client and a TCP client', async () => {
    await using t = await startTestHub(anonymous)
    await using web = await connect(`ws://127.0.0.1:${t.httpPort}/mqtt`, { clientId: 'browser' })
    await using tcp = await connect(t.mqttUrl, { clientId: 'device' })
    await web.subscribeAsync('to/web', { qos: 1 })
    await tcp.subscribeAsync('to/tcp', { qos: 1 })

    const atWeb = nextMessage(web, 'to/web')
    await tcp.publishAsync('to/web', 'hello browser', { qos: 1 })
    expect(await atWeb).toEqual({ payload: 'hello browser', retain: false, qos: 1 })

    const atTcp = nextMessage(tcp, 'to/tcp')
    await web.publishAsync('to/tcp', 'hello device', { qos: 1 })
    expect(await atTcp).toEqual({ payload: 'hello device', retain: false, qos: 1 })
  })

  it('carries a payload larger than one WebSocket frame of the client, intact', async () => {
    await using t = await startTestHub(anonymous)
    await using web = await connect(`ws://127.0.0.1:${t.httpPort}/mqtt`, { clientId: 'big' })
    await web.subscribeAsync('big', { qos: 1 })
    const payload = 'x'.repeat(200 * 1024)
    const got = nextMessage(web, 'big')
    await web.publishAsync('big', payload, { qos: 1 })
    expect((await got).payload).toBe(payload)
  })

  it('echoes the mqtt subprotocol so browser clients accept the connection', async () => {
    await using t = await startTestHub(anonymous)
    const ws = await openWs(`ws://127.0.0.1:${t.httpPort}/mqtt`, ['mqtt'])
    expect(ws.protocol).toBe('mqtt')
    ws.close()
  })

  it('refuses an upgrade that offers only other subprotocols', async () => {
    await using t = await startTestHub(anonymous)
    await expect(openWs(`ws://127.0.0.1:${t.httpPort}/mqtt`, ['chat'])).rejects.toThrow('refused')
  })

  it('closes a WebSocket that sends a text frame [MQTT-6.0.0-1]', async () => {
    await using t = await startTestHub(anonymous)
    const ws = await openWs(`ws://127.0.0.1:${t.httpPort}/mqtt`, ['mqtt'])
    const closed = new Promise<number>((resolve) => {
      ws.onclose = (e) => resolve(e.code)
    })
    ws.send('not mqtt')
    expect(await closed).toBe(1003)
  })

  it('unregisters the MQTT client when its WebSocket goes away', async () => {
    await using t = await startTestHub(anonymous)
    const web = await connect(`ws://127.0.0.1:${t.httpPort}/mqtt`, { clientId: 'leaving' })
    await waitFor(() => brokerClients(t.hub.broker).leaving)
    web.stream.destroy()
    await waitFor(() => !brokerClients(t.hub.broker).leaving)
    await web.endAsync(true)
  })
})
