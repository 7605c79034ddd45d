import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { startTestHub } from '../helpers/hub.ts'

describe('hub', () => {
  it('starts on port 0 and answers /healthz and MQTT', async () => {
    // Anonymous clients are refused by default; this test is about the hub, not auth.
    await using t = await startTestHub({ mqtt: { allowAnonymous: true } })
    const res = await fetch(`${t.url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    expect(client.connected).toBe(true)
    await client.endAsync()
  })
})
