import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { actionSchema } from '../../src/catalog/actions.ts'
import { loadConfig } from '../../src/config/load.ts'
import { createHub } from '../../src/hub.ts'
import { createLogger } from '../../src/log.ts'
import { createToken } from '../../src/store/tokens.ts'
import { startFcmPeer } from '../bridges/fcm/peer.ts'
import { startSlackPeer } from '../bridges/slack/peer.ts'
import { startReceiver } from '../bridges/webhook/receiver.ts'
import { collect } from '../broker/mqtt-fixture.ts'
import { tempDir } from '../helpers/hub.ts'
import { startFileHub } from '../helpers/reload.ts'
import { waitFor } from '../helpers/wait.ts'

const OPEN = '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "#", access = "readwrite" }]\n'
const T0 = Date.UTC(2026, 0, 5, 12, 0, 0)

const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('config reload: hooks, webhooks, rules and schedules', () => {
  it('answers on a hook added to the file, and stops answering once it is taken out', async () => {
    await using t = await startFileHub(OPEN)
    expect((await postJson(`${t.url}/hooks/door`, { message: 'open' })).status).toBe(404)
    const sub = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    await sub.subscribeAsync('hooks/door', { qos: 1 })
    const got = new Promise<string>((resolve) => sub.once('message', (_t, p) => resolve(p.toString())))

    const result = t.rewrite(
      `${OPEN}\n[[hooks]]\nname = "door"\npreset = "none"\npayload = "field"\nfield = "message"\n`,
    )

    expect(result).toEqual({ ok: true, applied: ['hooks'], needsRestart: [] })
    const res = await postJson(`${t.url}/hooks/door`, { message: 'open' })
    expect(res.status).toBe(200)
    expect(await got).toBe('open')
    t.rewrite(OPEN)
    expect((await postJson(`${t.url}/hooks/door`, { message: 'open' })).status).toBe(404)
    await sub.endAsync()
  })

  it('posts to an outbound webhook target added to the file, and follows a changed filter', async () => {
    await using receiver = startReceiver()
    await using t = await startFileHub(OPEN)
    const pub = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    const target = (filter: string) =>
      `${OPEN}\n[[webhooks]]\nname = "out"\nfilter = "${filter}"\nurl = "${receiver.url('/out')}"\n`

    expect(t.rewrite(target('first/#'))).toEqual({ ok: true, applied: ['webhooks'], needsRestart: [] })
    await pub.publishAsync('first/a', 'one', { qos: 1 })
    await waitFor(() => receiver.at('/out').length === 1, { what: 'the first delivery' })

    t.rewrite(target('second/#'))
    await pub.publishAsync('first/b', 'not any more', { qos: 1 })
    await pub.publishAsync('second/a', 'two', { qos: 1 })
    await waitFor(() => receiver.at('/out').length === 2, { what: 'the second delivery' })
    expect(receiver.at('/out').map((r) => (JSON.parse(r.body) as { topic: string }).topic)).toEqual([
      'first/a',
      'second/a',
    ])
    await pub.endAsync()
  })

  it('evaluates a rule added to the file on the next message', async () => {
    await using t = await startFileHub(OPEN)
    const client = await mqtt.connectAsync(t.mqttUrl, { reconnectPeriod: 0 })
    await client.subscribeAsync('alerts/#', { qos: 1 })
    const alerts: string[] = []
    client.on('message', (topic, payload) => alerts.push(`${topic} ${payload}`))
    await client.publishAsync('sensors/temp', '{"c": 40}', { qos: 1 })
    await t.hub.rules.idle()
    expect(t.hub.rules.list()).toEqual([])

    const result = t.rewrite(
      `${OPEN}\n[[rules]]\nid = "hot"\ntrigger = { type = "mqtt", filter = "sensors/#" }\n` +
        `when = { path = "c", op = ">=", value = 30 }\n` +
        `actions = [{ type = "publish", topic = "alerts/hot", payload = "{{payload.c}}", encoding = "template" }]\n`,
    )

    expect(result).toEqual({ ok: true, applied: ['rules'], needsRestart: [] })
    await client.publishAsync('sensors/temp', '{"c": 41}', { qos: 1 })
    await waitFor(() => alerts.length, { what: 'the rule to publish' })
    expect(alerts).toEqual(['alerts/hot 41'])
    await client.endAsync()
  })

  it('arms a schedule (an HTTP poller) added to the file, follows its changes and drops it when removed', async () => {
    const requests: string[] = []
    using api = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        requests.push(new URL(req.url).pathname)
        return Response.json({ main: { temp: 21.5 } })
      },
    })
    let now = T0
    await using t = await startFileHub(OPEN, { now: () => now })
    const poller = (path: string) =>
      `${OPEN}\n[[schedules]]\nid = "weather"\nkind = "interval"\nevery = "900s"\n\n` +
      `  [[schedules.actions]]\n  type = "poll"\n  url = "http://127.0.0.1:${api.port}${path}"\n` +
      `  telemetry = [{ device = "weather", metric = "temperature", path = "main.temp" }]\n`

    expect(t.rewrite(poller('/v1'))).toEqual({ ok: true, applied: ['schedules'], needsRestart: [] })
    expect(t.hub.scheduler.get('weather')).toMatchObject({ origin: 'config', nextRunAt: T0 + 900_000 })
    now = T0 + 900_000
    expect(t.hub.scheduler.tick().fired.map((f) => f.id)).toEqual(['weather'])
    await t.hub.scheduler.idle()

    t.rewrite(poller('/v2'))
    now = T0 + 1_800_000
    expect(t.hub.scheduler.tick().fired.map((f) => f.id)).toEqual(['weather'])
    await t.hub.scheduler.idle()
    expect(requests).toEqual(['/v1', '/v2'])

    t.rewrite(OPEN)
    expect(t.hub.scheduler.get('weather')).toBeUndefined()
    now = T0 + 2_700_000
    expect(t.hub.scheduler.tick().fired).toEqual([])
  })
})

describe('config reload: push (FCM)', () => {
  it('turns push on with a service account added to the file, and follows a changed project', async () => {
    await using peer = startFcmPeer()
    await using t = await startFileHub('')
    const admin = createToken(t.hub.db, { name: 'admin', scope: 'admin' }).secret
    const registered = await fetch(`${t.url}/api/v1/push/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'tok-phone-1', platform: 'android' }),
    })
    expect(registered.status).toBeLessThan(300)
    const push = () =>
      t.hub.actions.run(actionSchema.parse({ type: 'push', title: 'hi', body: 'there' }), { source: 'test' })
    expect((await push()).ok).toBe(false)

    const accountFile = join(t.dataDir, 'fcm.json')
    writeFileSync(accountFile, (await peer.account()).json)
    const withPush = (extra: string) =>
      `[push]\nserviceAccountFile = "${accountFile}"\nbaseUrl = "${peer.url}"\n${extra}`
    expect(t.rewrite(withPush(''))).toEqual({
      ok: true,
      applied: ['push.baseUrl', 'push.serviceAccount', 'push.serviceAccountFile'],
      needsRestart: [],
    })
    expect((await push()).ok).toBe(true)
    await waitFor(() => peer.to('tok-phone-1').length === 1, { what: 'the first push' })

    t.rewrite(withPush('projectId = "other-project"\n'))
    expect((await push()).ok).toBe(true)
    await waitFor(() => peer.to('tok-phone-1').length === 2, { what: 'the second push' })
    expect(peer.to('tok-phone-1').map((r) => r.project)).toEqual(['hearth-test', 'other-project'])
  })
})

describe('config reload: Slack', () => {
  it('sends slack actions to a destination set up by a reload, and follows a changed URL', async () => {
    await using peer = startSlackPeer()
    await using t = await startFileHub('')
    const say = (text: string) =>
      t.hub.actions.run(actionSchema.parse({ type: 'slack', text }), { source: 'rule:test', data: {} })
    expect((await say('before')).ok).toBe(false)

    const slack = (name: string) => `[slack]\nwebhookUrl = "${peer.webhook(name)}"\nminInterval = "1ms"\n`
    expect(t.rewrite(slack('first'))).toEqual({
      ok: true,
      applied: ['slack.minInterval', 'slack.webhookUrl'],
      needsRestart: [],
    })
    expect((await say('one')).ok).toBe(true)
    await waitFor(() => peer.toWebhook('first').length === 1, { what: 'the first message' })

    t.rewrite(slack('second'))
    expect((await say('two')).ok).toBe(true)
    await waitFor(() => peer.toWebhook('second').length === 1, { what: 'the second message' })
    expect([peer.toWebhook('first'), peer.toWebhook('second')].map((r) => r.map((m) => m.body.text))).toEqual(
      [['one'], ['two']],
    )
  })

  it('takes slack actions again after reloads turned Slack off and back on', async () => {
    await using peer = startSlackPeer()
    const slack = `[slack]\nwebhookUrl = "${peer.webhook('back')}"\nminInterval = "1ms"\n`
    await using t = await startFileHub(slack)
    expect(t.rewrite('').ok).toBe(true)
    expect(t.rewrite(slack)).toEqual({
      ok: true,
      applied: ['slack.minInterval', 'slack.webhookUrl'],
      needsRestart: [],
    })
    const said = await t.hub.actions.run(actionSchema.parse({ type: 'slack', text: 'again' }), {
      source: 'rule:test',
      data: {},
    })
    expect(said.ok).toBe(true)
    await waitFor(() => peer.toWebhook('back').length === 1, { what: 'the message' })
  })
})

describe('config reload: what it refuses and what waits for a restart', () => {
  it('keeps the running config when the file is invalid, naming the key path in an alert', async () => {
    await using t = await startFileHub(OPEN)
    const alerts = collect(t, 'alert')
    const reloaded = collect(t, 'config.reloaded')

    const result = t.rewrite(
      '[mqtt]\nallowAnonymous = true\nanonymousAcl = [{ pattern = "#", access = "everything" }]\n' +
        '[[hooks]]\nname = "door"\npreset = "none"\n',
    )

    expect(result.ok).toBe(false)
    expect(!result.ok && result.problems.join('\n')).toContain('mqtt.anonymousAcl.0.access')
    expect(alerts.map((e) => [e.detail.source, e.detail.severity])).toEqual([['config', 'critical']])
    expect(alerts[0]?.detail.message).toContain('mqtt.anonymousAcl.0.access')
    expect(reloaded).toEqual([])
    expect((await postJson(`${t.url}/hooks/door`, {})).status).toBe(404)

    expect(t.rewrite('[mqtt\nbroken').ok).toBe(false)
    expect(alerts.at(-1)?.detail.message).toContain('not valid TOML')
  })

  it('names keys it cannot apply live in needsRestart, until the hub restarts with them', async () => {
    await using t = await startFileHub(OPEN)
    const changed = `${OPEN}sysInterval = "5s"\n[events]\nretention = "7d"\n[[hooks]]\nname = "door"\npreset = "none"\n`

    expect(t.rewrite(changed)).toEqual({
      ok: true,
      applied: ['hooks'],
      needsRestart: ['events.retention', 'mqtt.sysInterval'],
    })
    // Still waiting for a restart: a second reload says so again, and applies nothing new.
    expect(t.rewrite(changed)).toEqual({
      ok: true,
      applied: [],
      needsRestart: ['events.retention', 'mqtt.sysInterval'],
    })
  })
})

describe('config reload: the log level', () => {
  it('logs at the new level from the reload on', async () => {
    using dir = tempDir()
    const file = join(dir.path, 'hearth.toml')
    const load = () =>
      loadConfig({
        file,
        cwd: dir.path,
        env: {},
        overrides: {
          dataDir: dir.path,
          mqtt: { host: '127.0.0.1', port: 0 },
          http: { host: '127.0.0.1', port: 0 },
        },
      }).config
    writeFileSync(file, '[log]\nlevel = "warn"\n')
    const lines: { level: string; module?: string; msg: string }[] = []
    const config = load()
    const hub = createHub({
      config,
      log: createLogger({ level: config.log.level, format: 'json', write: (l) => lines.push(JSON.parse(l)) }),
    })
    await hub.start()
    try {
      expect(lines.filter((l) => l.level === 'info')).toEqual([])
      writeFileSync(file, '[log]\nlevel = "info"\n')
      expect(hub.reload(load)).toEqual({ ok: true, applied: ['log.level'], needsRestart: [] })
      expect(lines.filter((l) => l.level === 'info').map((l) => [l.module, l.msg])).toEqual([
        ['config', 'config reloaded'],
      ])
    } finally {
      await hub.stop()
    }
  })
})
