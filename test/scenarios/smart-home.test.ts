// Source system (a) end to end: the Raspberry Pi smart-home backend as
// examples/smart-home.toml. A schedule_mode document in Google's Firestore emulator fires at its
// time (the injected clock) and its 9-character command reaches the board's dotted-topic
// subscription; the fired one-shot document is deleted; the board's reported state is mirrored to
// a local Realtime Database peer and the hub's copy; the weather poller publishes; a bridge that
// keeps crashing is restarted with back-off and Slack gets one alert for the incident.
import { describe, expect, it } from 'bun:test'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import type { DeviceCredentials } from '../../src/devices/registry.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startFirestoreEmulator } from '../bridges/firebase/firestore-emulator.ts'
import { startOAuthPeer } from '../bridges/firebase/oauth-peer.ts'
import { startRtdbPeer } from '../bridges/firebase/rtdb-peer.ts'
import { startSlackPeer } from '../bridges/slack/peer.ts'
import { addDevice, connect, login, nextMessage } from '../broker/mqtt-fixture.ts'
import { subscribed } from '../broker/raw-mqtt.ts'
import { startTestHub, type TestHub } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'

type Table = Record<string, unknown>
const example = parseToml(
  readFileSync(resolve(import.meta.dir, '../../examples/smart-home.toml'), 'utf8'),
) as Table

const kst = (iso: string) => Date.parse(`${iso}+09:00`)

/** Debian's python3-paho-mqtt as the board's firmware: it sends `webos.smarthome.#` as it is. */
const FIRMWARE = `
import sys, paho.mqtt.client as mqtt
mqtt.Client._filter_wildcard_len_check = staticmethod(lambda sub: mqtt.MQTT_ERR_SUCCESS)
port, client_id, user, password, flt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def on_connect(c, u, f, rc): c.subscribe(flt, qos=1)
def on_message(c, u, m):
    print(m.topic + " " + m.payload.decode(), flush=True)
    c.disconnect()
c = mqtt.Client(client_id=client_id)
c.username_pw_set(user, password)
c.on_connect, c.on_message = on_connect, on_message
c.connect("127.0.0.1", port)
c.loop_forever()
`

/** A subscriber in a child process that prints "topic payload" and exits after its first message. */
function subscriber(t: TestHub, clientId: string, cmd: string[]) {
  const ready = subscribed(t.hub.broker, clientId)
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe' })
  return {
    subscribed: ready,
    async line(): Promise<string> {
      const timer = setTimeout(() => proc.kill(), 10_000)
      const out = await new Response(proc.stdout).text()
      clearTimeout(timer)
      await proc.exited
      return out.trim()
    },
    [Symbol.asyncDispose]: async () => {
      proc.kill()
      await proc.exited
    },
  }
}

const firmware = (t: TestHub, c: DeviceCredentials) =>
  subscriber(t, 'board-firmware', [
    '/usr/bin/python3',
    '-c',
    FIRMWARE,
    String(t.mqttPort),
    'board-firmware',
    c.username,
    c.password,
    'webos.smarthome.#',
  ])

const mosquittoSub = (t: TestHub, c: DeviceCredentials) =>
  subscriber(t, 'phone-cli', [
    'mosquitto_sub',
    ...['-h', '127.0.0.1', '-p', String(t.mqttPort), '-i', 'phone-cli', '-u', c.username, '-P', c.password],
    ...['-t', 'webos.smarthome.info', '-q', '1', '-v', '-C', '1'],
  ])

const WEATHER = {
  weather: [{ id: 500, main: 'Rain', description: 'light rain', icon: '10d' }],
  main: { temp: 18.3, humidity: 82 },
  name: 'Seoul',
}

describe('source (a): the smart-home backend', () => {
  it('runs the Firestore schedules, mirrors the board to the Realtime Database, polls the weather and alerts Slack once per incident', async () => {
    await using emulator = await startFirestoreEmulator()
    await using oauth = await startOAuthPeer('threeamericano')
    await using rtdb = startRtdbPeer({ accessToken: oauth.accessToken })
    await using slack = startSlackPeer()
    const weatherQueries: URLSearchParams[] = []
    await using weather = {
      server: Bun.serve({
        hostname: '127.0.0.1',
        port: 0,
        fetch(req) {
          weatherQueries.push(new URL(req.url).searchParams)
          return Response.json(WEATHER)
        },
      }),
      [Symbol.asyncDispose]() {
        return this.server.stop(true)
      },
    }

    // Set up by the apps before the hub starts: a one-shot and a weekday schedule.
    const docs = emulator.docs('threeamericano')
    const appliances = {
      modeNum: 3,
      airconEnable: true,
      airconWindPower: 2,
      lightEnable: true,
      lightBrightness: 4,
      lightColor: 5,
      lightMode: 6,
      windowOpen: true,
      gasValveEnable: false,
    }
    await docs.set('schedule_mode', 'wake-up', {
      title: '기상',
      repeat: false,
      enabled: true,
      startTime: '0930',
      activeDate: '2030.05.01',
      ...appliances,
    })
    await docs.set('schedule_mode', 'evening', {
      title: '퇴근',
      repeat: true,
      enabled: true,
      startTime: '1900',
      daysOfWeek: [false, true, true, true, true, true, false],
      ...appliances,
      modeNum: 1,
      windowOpen: false,
    })
    // The apps' stream is refused at first: the listener keeps crashing until it is not.
    rtdb.refuseStreams = true

    // The example as it is, but for secrets from files and the URLs of the local peers.
    const firebase = example.firebase as Table
    const { serviceAccountFile: _sa, ...firebaseRest } = firebase
    const { botTokenFile: _bt, ...slackRest } = example.slack as Table
    const schedules = (example.schedules as Table[]).map((s) =>
      s.id === 'weather'
        ? {
            ...s,
            actions: (s.actions as Table[]).map((a) => ({
              ...a,
              url: `http://127.0.0.1:${weather.server.port}/data/2.5/weather`,
            })),
          }
        : s,
    )
    let now = kst('2030-05-01T09:29:00')
    await using t = await startTestHub(
      {
        ...example,
        schedules,
        firebase: {
          ...firebaseRest,
          serviceAccount: oauth.serviceAccount,
          rtdb: { ...(firebase.rtdb as Table), url: rtdb.url },
          firestore: {
            url: emulator.url,
            emulator: true,
            schedules: { ...((firebase.firestore as Table).schedules as Table), pollInterval: '50ms' },
          },
        },
        slack: { ...slackRest, botToken: slack.botToken, apiUrl: slack.apiUrl },
      },
      { now: () => now, backoff: { initialMs: 10, maxMs: 200, stableMs: 60_000 } },
    )
    const { secret: apiToken } = createToken(t.hub.db, { name: 'test', scope: 'read' })
    const api = async (path: string) =>
      (await (
        await fetch(`${t.url}/api/v1${path}`, { headers: { authorization: `Bearer ${apiToken}` } })
      ).json()) as Table

    // --- a bridge that keeps crashing: restarted with back-off, one Slack message --------------
    const failures = () =>
      (
        t.hub.db.query(`SELECT detail FROM events WHERE type = 'service.failed' ORDER BY id`).all() as Array<{
          detail: string
        }>
      ).map((r) => JSON.parse(r.detail) as { service: string; attempt: number; retryInMs: number })
    await waitFor(() => failures().length >= 3, { what: 'the listener failing again and again' })
    expect(failures().slice(0, 3)).toEqual([
      expect.objectContaining({ service: 'firebase-rtdb-listen:smarthome', attempt: 1, retryInMs: 10 }),
      expect.objectContaining({ service: 'firebase-rtdb-listen:smarthome', attempt: 2, retryInMs: 20 }),
      expect.objectContaining({ service: 'firebase-rtdb-listen:smarthome', attempt: 3, retryInMs: 40 }),
    ])
    rtdb.refuseStreams = false
    await waitFor(() => rtdb.openStreams() === 1, { what: 'the listener streaming again' })
    await waitFor(() => slack.toChannel('#server').length === 1, { what: 'the Slack alert' })
    expect(slack.toChannel('#server')[0]!.body.text).toContain('firebase-rtdb-listen:smarthome')

    // --- the schedule documents become hub schedules -----------------------------------------
    await waitFor(() => t.hub.scheduler.get('fs-wake-up') && t.hub.scheduler.get('fs-evening'), {
      what: 'the documents synced',
    })
    expect(t.hub.scheduler.preview('fs-evening', 1)).toEqual([kst('2030-05-01T19:00:00')])

    // --- the one-shot fires: the board and a phone get the command ---------------------------
    const board = await addDevice(t.hub.db, 'smarthome')
    const phone = await addDevice(t.hub.db, 'phone')
    await using fw = firmware(t, board)
    await using cli = mosquittoSub(t, phone)
    await Promise.all([fw.subscribed, cli.subscribed])
    now = kst('2030-05-01T09:30:00')
    t.hub.scheduler.tick()
    expect(await fw.line()).toBe('webos/smarthome/info 312145610')
    expect(await cli.line()).toBe('webos/smarthome/info 312145610')
    await t.hub.scheduler.idle()

    // --- and its document is deleted; the weekday one stays ----------------------------------
    await waitFor(async () => (await docs.get('schedule_mode', 'wake-up')) === undefined, {
      what: 'the fired one-shot deleted in Firestore',
    })
    expect((await docs.list('schedule_mode')).map((d) => d.name.split('/').at(-1))).toEqual(['evening'])
    await waitFor(() => t.hub.scheduler.get('fs-wake-up') === undefined, { what: 'its hub schedule gone' })

    // --- the board reports what it did: mirrored to the database and the local copy ----------
    {
      await using device = await connect(t.mqttUrl, { ...login(board), clientId: 'board' })
      await device.publishAsync('devices.smarthome.state', JSON.stringify({ status: '312145610' }), {
        qos: 1,
      })
      await waitFor(() => rtdb.get('smarthome/status') === '312145610', {
        what: 'the status in the database',
      })
      await waitFor(() => rtdb.get('devices/smarthome/status') === 'online', { what: 'the board online' })
    }
    await waitFor(() => rtdb.get('devices/smarthome/status') === 'offline', { what: 'the board offline' })
    const local = await api('/firebase/rtdb')
    expect(local.value).toEqual(rtdb.get())
    expect(local.value).toMatchObject({ smarthome: { status: '312145610' } })

    // --- the weather poller (every 900 s from start) publishes; the weather is mirrored too ---
    await using app = await connect(t.mqttUrl, { ...login(phone), clientId: 'phone-app' })
    await app.subscribeAsync('data.sensor.openweather', { qos: 1 })
    const forecast = nextMessage(app, 'data/sensor/openweather')
    now = kst('2030-05-01T09:44:00')
    t.hub.scheduler.tick()
    const expected = { temp: 18.3, humidity: 82, icon: '10d', description: 'light rain' }
    expect(JSON.parse((await forecast).payload)).toEqual(expected)
    expect(weatherQueries.map((q) => [q.get('q'), q.get('units')])).toEqual([['Seoul', 'metric']])
    await waitFor(() => rtdb.get('sensor/openweather') !== null, { what: 'the weather mirrored' })
    expect(rtdb.get('sensor/openweather')).toEqual(expected)

    // One incident, one message: nothing else went to Slack.
    expect(slack.requests.length).toBe(1)
    expect(t.fatal).toBeUndefined()
    // The Firestore emulator's JVM takes several seconds to start and warm up on a small machine.
  }, 90_000)
})
