import { describe, expect, it } from 'bun:test'
import { createDeviceAccess } from '../../src/broker/device-access.ts'
import type { BrokerHandle } from '../../src/broker/hooks.ts'
import { createBus } from '../../src/bus/bus.ts'
import { findDeviceSecret } from '../../src/devices/registry.ts'
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
      // As auth answers: a device for d1's login, nothing for a user's.
      identityOf: (client) =>
        client.username === 'd1'
          ? { kind: 'device', deviceId: 'd1', via: 'password', credentialsAt: 0 }
          : undefined,
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

describe('a rotation by another process while a device authenticates', () => {
  it('ends the connection: the poll compares with the credentials the client proved', async () => {
    await using t = await startTestHub()
    await addDevice(t.hub.db, 'd1')
    const proved = findDeviceSecret(t.hub.db, 'd1')!.credentialsAt
    const ended: string[] = []
    const access = createDeviceAccess({
      db: t.hub.db,
      bus: createBus(silentLogger()),
      log: silentLogger(),
      credentials: { forget() {} },
      // What the client's authentication read, before the rotation below.
      identityOf: () => ({ kind: 'device', deviceId: 'd1', via: 'password', credentialsAt: proved }),
      clientsOf: () => ['c1'],
    })
    access.attach?.({
      disconnect(clientId: string) {
        ended.push(clientId)
      },
    } as unknown as BrokerHandle)
    // Committed by another process after the hash was read, before the connection counts as up.
    const env = { HEARTH_DATA_DIR: t.dataDir }
    expect((await cli(['device', 'rotate', 'd1'], { cwd: t.dataDir, env })).code).toBe(0)
    access.connected?.({ id: 'c1', username: 'd1' } as EngineClient)
    access.check()
    expect(ended).toEqual(['c1'])
    access.detach?.()
  })
})
