// Source system (d) end to end: readings POSTed over HTTP, the Lambda's
// decisions as a rule chain, warnings received by Debian's mosquitto_sub on pi/1 at QoS 1,
// byte for byte as Python's json.dumps wrote them, and the readings queryable with their times.
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { createDevice } from '../../src/devices/registry.ts'
import { createToken } from '../../src/store/tokens.ts'
import { subscribed } from '../broker/raw-mqtt.ts'
import { startTestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

const example = parseToml(
  readFileSync(resolve(import.meta.dir, '../../examples/sensor-pipeline.toml'), 'utf8'),
)

describe('source (d): the sensor pipeline', () => {
  it('publishes what the Lambda published, in its order, and stores the readings with their times', async () => {
    await using t = await startTestHub(example)
    const { credentials: pi } = await createDevice(t.hub.db, { id: 'pi' })
    const { credentials: watcher } = await createDevice(t.hub.db, { id: 'watcher' })
    const { secret } = createToken(t.hub.db, { name: 'charts', scope: 'read' })

    const ready = subscribed(t.hub.broker, 'pi-watcher')
    const sub = Bun.spawn(
      [
        'mosquitto_sub',
        '-h',
        '127.0.0.1',
        '-p',
        String(t.mqttPort),
        '-i',
        'pi-watcher',
        '-u',
        watcher.username,
        '-P',
        watcher.password,
        '-t',
        'pi/1',
        '-q',
        '1',
      ],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    try {
      const lines: string[] = []
      void (async () => {
        let buf = ''
        for await (const chunk of sub.stdout) {
          buf += new TextDecoder().decode(chunk)
          const parts = buf.split('\n')
          buf = parts.pop() ?? ''
          lines.push(...parts)
        }
      })()
      await ready

      const post = async (body: unknown) => {
        const res = await fetch(`${t.url}/ingest/pi`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${pi.username}:${pi.password}`).toString('base64')}`,
          },
          body: JSON.stringify(body),
        })
        expect(res.status).toBe(202)
      }
      // Recent times, inside raw retention: minutes 1 to 4 of the hour before now.
      const base = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000
      const at = (minute: number) => base + minute * 60_000
      // co, nh3 and no2 present: every gas over its threshold warns, in the Lambda's order.
      await post({
        ts: at(1),
        co: { value: '26.20', sensorid: '0005' },
        no2: { value: '100.00', sensorid: '0006' },
        nh3: { value: 3000 },
        h2: { value: '400' },
        c4h10: { value: 600000 },
      })
      // iot_core wins over everything; emergency over the warnings.
      await post({
        ts: at(2),
        iot_core: 'iot_core',
        co: { value: 5000 },
        nh3: { value: 1 },
        no2: { value: 500 },
      })
      await post({
        ts: at(3),
        emergency: 'emergency',
        co: { value: 5000 },
        nh3: { value: 1 },
        no2: { value: 500 },
      })
      // nh3 missing: no warning, however high no2 is.
      await post({ ts: at(4), co: { value: 1 }, no2: { value: 999 } })

      const expected = [
        '{"warning": "no2 warning"}',
        '{"warning": "nh3 warning"}',
        '{"warning": "c4h10 warning"}',
        '{"msg": "success"}',
        '{"iot_core": "iot_core"}',
        '{"msg": "success"}',
        '{"emergency": "emergency"}',
        '{"msg": "success"}',
        '{"msg": "success"}',
      ]
      await waitFor(() => lines.length >= expected.length, { what: 'every message on pi/1' })
      await t.hub.rules.idle()
      expect(lines).toEqual(expected)

      const res = await fetch(
        `${t.url}/api/v1/telemetry?device=pi&metric=no2&from=${base}&to=${base + 3_600_000}`,
        { headers: { authorization: `Bearer ${secret}` } },
      )
      expect(res.status).toBe(200)
      const body = (await res.json()) as { resolution: string; points: Array<{ ts: number; value: number }> }
      expect(body.resolution).toBe('raw')
      expect(body.points.map((p) => [p.ts, p.value])).toEqual([
        [at(1), 100],
        [at(2), 500],
        [at(3), 500],
        [at(4), 999],
      ])
    } finally {
      sub.kill()
      await sub.exited
    }
  })
})
