import { expect, it } from 'bun:test'
import mqtt from 'mqtt'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'

for (const protocolVersion of [4, 5] as const) {
  it(`smoke v${protocolVersion}`, async () => {
    await using t = await startEngine()
    const sub = await mqtt.connectAsync(t.url, { protocolVersion, clientId: 'sub' })
    await sub.subscribeAsync('a/#', { qos: 1 })
    const got: string[] = []
    sub.on('message', (topic, payload) => got.push(`${topic}=${payload}`))
    const pub = await mqtt.connectAsync(t.wsUrl, { protocolVersion, clientId: 'pub' })
    await pub.publishAsync('a/b', 'hello', { qos: 1 })
    await pub.publishAsync('a/c', 'q0', { qos: 0 })
    await pub.publishAsync('a/d', 'q2', { qos: 2, retain: true })
    await waitFor(() => got.length === 3)
    expect(got).toEqual(['a/b=hello', 'a/c=q0', 'a/d=q2'])
    expect(t.engine.retained('a/#').length).toBe(1)
    await pub.endAsync()
    await sub.endAsync()
  })
}
