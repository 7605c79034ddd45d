import { describe, expect, it } from 'bun:test'
import { connect } from '../broker/mqtt-fixture.ts'
import { runHearth, spawnHub } from '../helpers/process.ts'

describe('hearth device, run in another process next to a running hub', () => {
  it('ends the live connection of a device it disables, removes or rotates (MQTT 5: DISCONNECT 0x87)', async () => {
    await using hub = await spawnHub(['serve'])
    const hearth = (...argv: string[]) => runHearth(argv, { HEARTH_DATA_DIR: hub.dataDir })
    const changes = { disable: 'd-off', remove: 'd-gone', rotate: 'd-new' } as const
    for (const [change, id] of Object.entries(changes)) {
      const added = await hearth('device', 'add', id, '--json')
      expect(added.code).toBe(0)
      const creds = JSON.parse(added.out) as { username: string; password: string }
      await using c = await connect(hub.mqttUrl, { ...creds, protocolVersion: 5 })
      const disconnected = new Promise<number | undefined>((resolve) =>
        c.once('disconnect', (p) => resolve(p.reasonCode)),
      )
      const changed = await hearth('device', change, id)
      expect([change, changed.code]).toEqual([change, 0])
      expect([change, await disconnected]).toEqual([change, 0x87])
    }
    expect(
      hub
        .logs()
        .filter((e) => e.msg?.startsWith('device access changed'))
        .map((e) => e.deviceId),
    ).toEqual(Object.values(changes))
  })
})
