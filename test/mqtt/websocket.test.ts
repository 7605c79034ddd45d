// MQTT over WebSocket (§6): the `mqtt` subprotocol is echoed [MQTT-6.0.0-3], a request without it
// is not upgraded, text frames close the connection [MQTT-6.0.0-1], and no frame larger than the
// largest packet is taken (maxPayloadLength = maxPacketSize).
import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import mqttPacket from 'mqtt-packet'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'
import { connectPacket } from './raw.ts'

const open = async (url: string, protocols: string[]) => {
  const ws = new WebSocket(url, protocols)
  const state = { closed: false, code: 0, opened: false }
  ws.onclose = (e) => {
    state.closed = true
    state.code = e.code
  }
  await new Promise<void>((resolve) => {
    ws.onopen = () => {
      state.opened = true
      resolve()
    }
    ws.onerror = () => resolve()
  })
  return { ws, state }
}

describe('MQTT over WebSocket (§6)', () => {
  it('echoes the mqtt subprotocol and serves mqtt.js over it', async () => {
    await using t = await startEngine()
    const { ws } = await open(t.wsUrl, ['mqtt'])
    expect(ws.protocol).toBe('mqtt')
    ws.close()
    const c = await mqtt.connectAsync(t.wsUrl, { protocolVersion: 5, clientId: 'ws5' })
    expect(t.engine.clients().map((x) => [x.id, x.transport])).toEqual([['ws5', 'ws']])
    await c.endAsync()
  })

  it('does not upgrade a request without the mqtt subprotocol', async () => {
    await using t = await startEngine()
    const { state } = await open(t.wsUrl, ['chat'])
    expect(state.opened).toBe(false)
  })

  it('closes on a text frame and on a frame larger than the maximum packet size', async () => {
    await using t = await startEngine({ limits: { maxPacketSize: 1024 } })
    const text = await open(t.wsUrl, ['mqtt'])
    text.ws.send(new Uint8Array(mqttPacket.generate(connectPacket('t'), { protocolVersion: 5 })))
    await waitFor(() => t.engine.clients().length === 1)
    text.ws.send('hello')
    await waitFor(() => text.state.closed)
    const big = await open(t.wsUrl, ['mqtt'])
    big.ws.send(new Uint8Array(4096))
    await waitFor(() => big.state.closed)
    expect(big.state.code).toBe(1009)
  })
})
