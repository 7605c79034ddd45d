import { describe, expect, it } from 'bun:test'
import { collect } from '../broker/mqtt-fixture.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { api, device } from './support.ts'

describe('upstream messages', () => {
  it('turns a publish on devices/<id>/outbox into a stored device.upstream event', async () => {
    await using t = await startTestHub()
    await using d1 = await device(t, 'd1', { subscribe: [] })
    const seen = collect(t, 'device.upstream')
    const before = Date.now()
    await d1.client.publishAsync('devices/d1/outbox', JSON.stringify({ temp: 21.5 }), { qos: 1 })
    await d1.client.publishAsync('devices/d1/outbox', 'plain text', { qos: 1 })
    await d1.client.publishAsync('devices/d1/outbox', Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 })
    await waitFor(() => seen.length === 3)
    expect(seen.map((e) => e.detail)).toEqual([
      {
        device: 'd1',
        sendTime: expect.any(Number),
        topic: 'devices/d1/outbox',
        payload: { temp: 21.5 },
        encoding: 'json',
        clientId: 'd1-client',
      },
      expect.objectContaining({ payload: 'plain text', encoding: 'utf8' }),
      expect.objectContaining({ payload: '//4A', encoding: 'base64' }),
    ])
    expect(seen[0]!.detail.sendTime).toBeGreaterThanOrEqual(before)
    const stored = await api(t, 'read').get('/events?type=device.upstream')
    expect(stored.body.items).toHaveLength(3)
    expect(stored.body.items.map((e: { subject: string }) => e.subject)).toEqual(['d1', 'd1', 'd1'])
  })

  it('ignores what another device may not publish there, and topics that are not an outbox', async () => {
    await using t = await startTestHub()
    await using d2 = await device(t, 'd2', { subscribe: [] })
    const seen = collect(t, 'device.upstream')
    const denied = collect(t, 'acl.denied')
    await d2.client.publishAsync('devices/d1/outbox', 'forged', { qos: 1 })
    await d2.client.publishAsync('devices/d2/outbox/extra', 'not an outbox', { qos: 1 })
    await d2.client.publishAsync('devices/d2/outbox', 'mine', { qos: 1 })
    await waitFor(() => seen.length === 1 && denied.length === 1)
    expect(seen.map((e) => e.detail.payload)).toEqual(['mine'])
  })

  it('can trigger a rule', async () => {
    await using t = await startTestHub({
      rules: [
        {
          id: 'on-upstream',
          trigger: { type: 'mqtt', filter: 'devices/+/outbox' },
          actions: [{ type: 'event', message: '{{subject}} says {{payload.text}}' }],
        },
      ],
    })
    await using d1 = await device(t, 'd1', { subscribe: [] })
    const fired = collect(t, 'action.event')
    await d1.client.publishAsync('devices/d1/outbox', JSON.stringify({ text: 'hello' }), { qos: 1 })
    await waitFor(() => fired.length === 1)
    expect(fired[0]!.detail).toMatchObject({
      source: 'rule:on-upstream',
      message: 'devices/d1/outbox says hello',
    })
  })

  it('shows upstream messages on a configured outbox topic', async () => {
    await using t = await startTestHub({ devices: { outboxTopic: 'up/%u' } })
    await using d1 = await device(t, 'd1', { subscribe: [] })
    const seen = collect(t, 'device.upstream')
    await d1.client.publishAsync('up/d1', 'hi', { qos: 1 })
    await waitFor(() => seen.length === 1)
    expect(seen[0]!.detail).toMatchObject({ device: 'd1', topic: 'up/d1', payload: 'hi' })
  })
})
