import { describe, expect, it } from 'bun:test'
import { createDeviceAccess } from '../../src/broker/device-access.ts'
import type { BrokerHandle } from '../../src/broker/hooks.ts'
import { createBus } from '../../src/bus/bus.ts'
import { silentLogger } from '../../src/log.ts'
import type { Client as EngineClient } from '../../src/mqtt/types.ts'
import { createToken } from '../../src/store/tokens.ts'
import { cli } from '../helpers/cli.ts'
import { startTestHub } from '../helpers/hub.ts'
import { addDevice, type Client, connect, login } from './mqtt-fixture.ts'

/** The reason code of the DISCONNECT the hub sends this MQTT 5 client. */
const disconnectOf = (c: Client) =>
  new Promise<number | undefined>((resolve) => c.once('disconnect', (p) => resolve(p.reasonCode)))

describe('device access ended by another process', () => {
  it('keeps a device that reconnected with its new password after an API rotation, whatever is committed later', async () => {
    await using t = await startTestHub()
    const d1 = await addDevice(t.hub.db, 'd1')
    const d2 = await addDevice(t.hub.db, 'd2')
    const { secret } = createToken(t.hub.db, { name: 'admin', scope: 'admin' })
    const v5 = { protocolVersion: 5 as const }
    {
      await using old = await connect(t.mqttUrl, { ...login(d1), ...v5 })
      const kicked = disconnectOf(old)
      const res = await fetch(`${t.url}/api/v1/devices/d1/rotate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}` },
      })
      expect(await kicked).toBe(0x87)
      d1.password = ((await res.json()) as { password: string }).password
    }
    await using fresh = await connect(t.mqttUrl, { ...login(d1), ...v5 })
    await using other = await connect(t.mqttUrl, { ...login(d2), ...v5 })
    const otherKicked = disconnectOf(other)

    // The CLI's own connection commits: a rename of d1 (no access change), then d2 disabled.
    const env = { HEARTH_DATA_DIR: t.dataDir }
    expect((await cli(['device', 'rename', 'd1', 'Hall'], { cwd: t.dataDir, env })).code).toBe(0)
    expect((await cli(['device', 'disable', 'd2'], { cwd: t.dataDir, env })).code).toBe(0)
    expect(await otherKicked).toBe(0x87)
    // d1 was looked at in the same pass: a round trip shows it is still connected.
    const closed = new Promise((resolve) => fresh.once('close', () => resolve('closed')))
    const acked = fresh.publishAsync('devices/d1/state', 'still here', { qos: 1 }).then(() => 'acked')
    expect(await Promise.race([acked, closed])).toBe('acked')
  })
})

describe('the poll for commits by another process', () => {
  it('runs only while a device is connected', async () => {
    await using t = await startTestHub()
    await addDevice(t.hub.db, 'd1')
    const access = createDeviceAccess({
      db: t.hub.db,
      bus: createBus(silentLogger()),
      log: silentLogger(),
      credentials: { forget() {} },
      deviceOf: (client) => client.username,
      clientsOf: () => [],
    })
    // The hooks are called as the engine calls them; only their device matters here.
    const device = { id: 'c1', username: 'd1' } as EngineClient
    const user = { id: 'c2', username: 'someone' } as EngineClient
    access.attach?.({} as BrokerHandle)
    expect(access.polling).toBe(false)
    access.connected?.(user)
    expect(access.polling).toBe(false)
    access.connected?.(device)
    expect(access.polling).toBe(true)
    access.disconnected?.(device, { reason: 'client' } as never)
    expect(access.polling).toBe(false)
    access.connected?.(device)
    access.revoke('d1')
    expect(access.polling).toBe(false)
    access.connected?.(device)
    access.detach?.()
    expect(access.polling).toBe(false)
  })
})
