import { describe, expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const codeOf = async (res: Response) => ((await res.json()) as { code: number }).code

async function hubWithToken() {
  // Anonymous subscribers keep these tests about the API, not about device credentials.
  const t = await startTestHub({
    mqtt: { allowAnonymous: true, anonymousAcl: [{ pattern: '#', access: 'readwrite' }] },
  })
  const { secret } = createToken(t.hub.db, { name: 'test', scope: 'write' })
  const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${t.url}/api/v1${path}`, { ...init, headers: { ...headers, ...(init.headers as object) } })
  return { t, api }
}

async function subscriber(url: string, filter: string) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 })
  const got: { topic: string; payload: Buffer; retain: boolean; qos: number }[] = []
  client.on('message', (topic, payload, packet) =>
    got.push({ topic, payload, retain: packet.retain, qos: packet.qos }),
  )
  await client.subscribeAsync(filter, { qos: 1 })
  return { client, got, [Symbol.asyncDispose]: () => client.endAsync() }
}

describe('publish API', () => {
  it('publishes text, base64 and JSON payloads that an MQTT subscriber receives', async () => {
    const { t, api } = await hubWithToken()
    await using _ = t
    await using sub = await subscriber(t.mqttUrl, 'pi/#')
    const send = (body: unknown) => api('/publish', { method: 'POST', body: JSON.stringify(body) })
    const res = await send({ topic: 'pi/1', payload: 'on', qos: 1 })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ topic: 'pi/1', bytes: 2, qos: 1, retain: false })
    await send({ topic: 'pi/2', payload: Buffer.from([0, 255]).toString('base64'), encoding: 'base64' })
    await send({ topic: 'pi/3', payload: { warning: 'no2 warning' }, encoding: 'json' })
    await waitFor(() => sub.got.length === 3, { what: 'three messages' })
    const byTopic = Object.fromEntries(sub.got.map((m) => [m.topic, m]))
    expect(byTopic['pi/1']?.payload.toString()).toBe('on')
    expect(byTopic['pi/1']?.qos).toBe(1)
    expect([...(byTopic['pi/2']?.payload ?? [])]).toEqual([0, 255])
    expect(JSON.parse(byTopic['pi/3']?.payload.toString() ?? '')).toEqual({ warning: 'no2 warning' })
  })

  it('refuses wildcards, $ topics and a non-string payload with 40002', async () => {
    const { t, api } = await hubWithToken()
    await using _ = t
    for (const body of [
      { topic: 'a/+', payload: 'x' },
      { topic: '$SYS/x', payload: 'x' },
      { topic: 'a', payload: 5 },
      { topic: 'a', payload: 'x', qos: 3 },
    ]) {
      expect(await codeOf(await api('/publish', { method: 'POST', body: JSON.stringify(body) }))).toBe(40002)
    }
  })
})

describe('retained API', () => {
  it('lists retained messages by topic filter and clears one with an empty retained publish', async () => {
    const { t, api } = await hubWithToken()
    await using _ = t
    for (const [topic, payload] of [
      ['devices/a/status', 'online'],
      ['devices/b/status', 'offline'],
      ['weather/now', '{"t":3}'],
    ]) {
      await api('/publish', { method: 'POST', body: JSON.stringify({ topic, payload, retain: true }) })
    }
    const list = await api('/retained?filter=devices/%2B/status')
    expect(await list.json()).toEqual({
      items: [
        { topic: 'devices/a/status', payload: 'online', encoding: 'utf8', qos: 0 },
        { topic: 'devices/b/status', payload: 'offline', encoding: 'utf8', qos: 0 },
      ],
      truncated: false,
    })
    const all = (await (await api('/retained?limit=2')).json()) as { items: unknown[]; truncated: boolean }
    expect(all.items).toHaveLength(2)
    expect(all.truncated).toBe(true)

    await using sub = await subscriber(t.mqttUrl, 'devices/a/status')
    await waitFor(() => sub.got.length === 1, { what: 'the retained message' })
    const del = await api('/retained?topic=devices/a/status', { method: 'DELETE' })
    expect(del.status).toBe(204)
    await waitFor(() => sub.got.length === 2, { what: 'the clearing publish' })
    expect(sub.got[1]?.payload.length).toBe(0)
    const after = (await (await api('/retained')).json()) as { items: { topic: string }[] }
    expect(after.items.map((i) => i.topic)).toEqual(['devices/b/status', 'weather/now'])
    expect(await codeOf(await api('/retained?topic=devices/a/status', { method: 'DELETE' }))).toBe(40401)
  })

  it('refuses a malformed topic filter with 40002', async () => {
    const { t, api } = await hubWithToken()
    await using _ = t
    expect(await codeOf(await api('/retained?filter=a/%23/b'))).toBe(40002)
  })
})
