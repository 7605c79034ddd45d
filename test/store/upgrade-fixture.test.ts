// The database release 0.1.0 left behind (test/fixtures/make-fixture.ts drove a real 0.1.0 hub to
// write it), opened by the binary this checkout builds: every kind of data a user had must be there
// through the interfaces the user has, HTTP and MQTT.
import { Database } from 'bun:sqlite'
import { beforeAll, describe, expect, it } from 'bun:test'
import { copyFileSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { SCHEMA_VERSION } from '../../src/store/migrations/index.ts'
import { ensureBinary } from '../helpers/binary.ts'
import { tempDir } from '../helpers/hub.ts'
import { type HubProcess, spawnHub } from '../helpers/process.ts'
import { nextEvent, waitFor } from '../helpers/wait.ts'

const FIXTURES = resolve(import.meta.dir, '../fixtures')
interface Fixture {
  schemaVersion: number
  users: Record<string, { password: string; role: string }>
  tokens: { id: string; name: string; scope: string; secret: string }[]
  devices: Record<string, { username: string; password: string }>
  groups: { groupId: string; name: string; devices: string[] }[]
  hooks: string[]
  webhookTargets: string[]
  rules: string[]
  schedules: string[]
  telemetry: { device: string; metrics: string[] }
  retained: {
    topics: string[]
    ours: Record<string, { payload?: string; payloadBase64?: string; qos: number }>
    cleared: string[]
  }
  queued: { clientId: string; topic?: string; payload?: string; encoding?: string; state?: string }[]
}
const fixture = JSON.parse(readFileSync(join(FIXTURES, 'hearth-0.1.0.json'), 'utf8')) as Fixture

let binary = ''
beforeAll(() => {
  binary = ensureBinary()
})

/** The fixture's own config: anonymous lab clients were allowed when it was written. */
const ENV = {
  HEARTH_MQTT_ALLOW_ANONYMOUS: 'true',
  HEARTH_MQTT_ANONYMOUS_ACL: '[{"pattern":"lab/#","access":"readwrite"}]',
}

function api(hub: HubProcess, secret: string) {
  return async <T>(path: string): Promise<T> => {
    const res = await fetch(`${hub.url}/api/v1${path}`, { headers: { authorization: `Bearer ${secret}` } })
    expect(res.status).toBe(200)
    return (await res.json()) as T
  }
}

type Items<T> = { items: T[] }

/** Connects, and collects every message from then on. */
async function connect(hub: HubProcess, opts: IClientOptions) {
  const client: MqttClient = mqtt.connect(hub.mqttUrl, { reconnectPeriod: 0, ...opts })
  const messages: { topic: string; payload: Buffer }[] = []
  client.on('message', (topic, payload) => messages.push({ topic, payload }))
  const connack = await nextEvent<{ sessionPresent: boolean }>(client, 'connect')
  return { client, messages, sessionPresent: connack.sessionPresent }
}

function expectedPayload(q: { payload?: string; encoding?: string }): Buffer {
  return Buffer.from(q.payload ?? '', q.encoding === 'base64' ? 'base64' : 'utf8')
}

describe('a database written by release 0.1.0', () => {
  it('opens with this build with every kind of data in place', async () => {
    using dir = tempDir()
    copyFileSync(join(FIXTURES, 'hearth-0.1.0.db'), join(dir.path, 'hearth.db'))
    await using hub = await spawnHub(['serve'], { HEARTH_DATA_DIR: dir.path, ...ENV }, { command: [binary] })

    // An older schema is upgraded only after a snapshot of the file as it was.
    const snapshots = readdirSync(dir.path).filter((f) => f.startsWith('hearth.db.before-v'))
    if (fixture.schemaVersion < SCHEMA_VERSION) {
      expect(snapshots).toEqual([
        expect.stringMatching(new RegExp(`^hearth\\.db\\.before-v${fixture.schemaVersion}-`)),
      ])
      const copy = new Database(join(dir.path, snapshots[0] ?? ''), { readonly: true })
      expect(copy.query('PRAGMA user_version').get()).toEqual({ user_version: fixture.schemaVersion })
      copy.close()
    } else {
      expect(snapshots).toEqual([])
    }

    const admin = fixture.tokens.find((t) => t.scope === 'admin')!
    const get = api(hub, admin.secret)
    const ids = <T extends Record<K, string>, K extends keyof T>(list: Items<T>, key: K) =>
      list.items.map((x) => x[key]).sort()

    // Devices, users, tokens, groups, hooks, webhook targets, rules, schedules, telemetry.
    expect(ids(await get<Items<{ id: string }>>('/devices'), 'id')).toEqual(
      Object.keys(fixture.devices).sort(),
    )
    expect(ids(await get<Items<{ username: string }>>('/users'), 'username')).toEqual(
      Object.keys(fixture.users).sort(),
    )
    expect(ids(await get<Items<{ id: string }>>('/tokens'), 'id')).toEqual(
      fixture.tokens.map((t) => t.id).sort(),
    )
    expect(
      (await get<Items<{ groupId: string; name: string; deviceSize: number }>>('/groups')).items,
    ).toEqual(
      fixture.groups.map((g) =>
        expect.objectContaining({ groupId: g.groupId, name: g.name, deviceSize: g.devices.length }),
      ),
    )
    expect(ids(await get<Items<{ name: string }>>('/hooks'), 'name')).toEqual([...fixture.hooks].sort())
    expect(ids(await get<Items<{ name: string }>>('/webhook-targets'), 'name')).toEqual(
      [...fixture.webhookTargets].sort(),
    )
    expect((await get<Items<{ rule: { id: string } }>>('/rules')).items.map((r) => r.rule.id).sort()).toEqual(
      [...fixture.rules].sort(),
    )
    expect(ids(await get<Items<{ id: string }>>('/schedules'), 'id')).toEqual([...fixture.schedules].sort())
    const latest = await get<Items<{ metric: string }>>(
      `/telemetry/latest?device=${fixture.telemetry.device}`,
    )
    expect(ids(latest, 'metric')).toEqual([...fixture.telemetry.metrics].sort())

    // Retained messages, binary payloads byte for byte; a cleared one stays cleared.
    const retained =
      await get<Items<{ topic: string; qos: number; payload: string; encoding: string }>>('/retained')
    expect(ids(retained, 'topic')).toEqual([...fixture.retained.topics].sort())
    for (const [topic, want] of Object.entries(fixture.retained.ours)) {
      const got = retained.items.find((r) => r.topic === topic)!
      expect(Buffer.from(got.payload, got.encoding === 'base64' ? 'base64' : 'utf8')).toEqual(
        want.payloadBase64 ? Buffer.from(want.payloadBase64, 'base64') : Buffer.from(want.payload ?? ''),
      )
      expect(got.qos).toBe(want.qos)
    }
    for (const topic of fixture.retained.cleared) expect(ids(retained, 'topic')).not.toContain(topic)

    // Every token and every user still authenticates.
    for (const t of fixture.tokens)
      expect(
        (await fetch(`${hub.url}/api/v1/devices`, { headers: { authorization: `Bearer ${t.secret}` } }))
          .status,
      ).toBe(200)
    for (const [username, u] of Object.entries(fixture.users)) {
      const res = await fetch(`${hub.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: u.password }),
      })
      expect(res.status).toBe(200)
    }

    // Persistent sessions come back with their subscriptions and the messages queued while offline.
    for (const clientId of ['thermostat-1', 'lab-logger']) {
      const creds = fixture.devices[clientId]
      const c = await connect(hub, { clientId, clean: false, ...(creds ?? {}) })
      try {
        expect(c.sessionPresent).toBe(true)
        const want = fixture.queued.filter((q) => q.clientId === clientId)
        await waitFor(() => c.messages.length >= want.length, { what: `${clientId}'s queued messages` })
        // Order is kept per topic only, and these are on different topics.
        const seen = c.messages.map((m) => `${m.topic} ${m.payload.toString('base64')}`).sort()
        expect(seen).toEqual(want.map((q) => `${q.topic} ${expectedPayload(q).toString('base64')}`).sort())
      } finally {
        await c.client.endAsync()
      }
    }
    // A QoS 1 message sent before the stop and never acknowledged is sent again.
    const lampCreds = fixture.devices['lamp-1']!
    const lamp = await connect(hub, { clientId: 'lamp-1', clean: false, ...lampCreds })
    try {
      expect(lamp.sessionPresent).toBe(true)
      const sent = fixture.queued.find((q) => q.clientId === 'lamp-1' && q.state === 'sent')!
      await waitFor(() => lamp.messages.some((m) => m.topic === sent.topic), {
        what: 'the unacknowledged message',
      })
      expect(lamp.messages.find((m) => m.topic === sent.topic)?.payload).toEqual(expectedPayload(sent))
    } finally {
      await lamp.client.endAsync()
    }
    expect(await hub.kill()).toBe(0)
  })
})
