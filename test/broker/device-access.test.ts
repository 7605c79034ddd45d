import { describe, expect, it } from 'bun:test'
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
