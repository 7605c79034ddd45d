// Source (a)'s schedule_mode documents as hub schedules, the conditional delete
// of fired one-shots, the firestore action and the deadline of every call, against Google's
// Firestore emulator.
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { staticToken } from '../../../src/bridges/firebase/auth.ts'
import { createFirestoreClient } from '../../../src/bridges/firebase/firestore/client.ts'
import { FirebaseFailure } from '../../../src/bridges/firebase/http.ts'
import { tempDir } from '../../helpers/hub.ts'
import { waitFor } from '../../helpers/wait.ts'
import { manualClock } from '../../jobs/support.ts'
import { type FirestoreEmulator, startFirestoreEmulator } from './firestore-emulator.ts'
import { COLLECTION, COMMAND_TOPIC, scheduleDoc, startSyncFixture } from './schedules-fixture.ts'

let emulator: FirestoreEmulator
// Starting and warming up the JVM takes several seconds on a small machine.
beforeAll(async () => {
  emulator = await startFirestoreEmulator()
}, 60_000)
afterAll(async () => {
  await emulator?.stop()
})

// Each test gets its own project: the emulator keeps one set of documents per project id.
const project = () => `demo-${crypto.randomUUID().slice(0, 8)}`
// Wednesday 1 May 2030, 09:00 in Seoul.
const START = Date.parse('2030-05-01T09:00:00+09:00')
const at = (iso: string) => Date.parse(iso)

describe('Firestore schedule documents', () => {
  it('become hub schedules, follow their documents’ changes and report the ones they cannot become', async () => {
    using dir = tempDir()
    const projectId = project()
    const docs = emulator.docs(projectId)
    await docs.set(
      COLLECTION,
      'weekday-morning',
      scheduleDoc({
        title: '평일 아침',
        repeat: true,
        daysOfWeek: [false, true, true, true, true, true, false],
        startTime: '0730',
      }),
    )
    await docs.set(
      COLLECTION,
      'holiday',
      scheduleDoc({ repeat: false, activeDate: '2030.05.05', startTime: '1015' }),
    )
    await docs.set(COLLECTION, 'no time', scheduleDoc({ repeat: false, activeDate: '2030.05.05' }))
    await docs.set(
      COLLECTION,
      'yesterday',
      scheduleDoc({ repeat: false, activeDate: '2030.04.30', startTime: '0930' }),
    )
    const clock = manualClock(START)
    await using f = await startSyncFixture({ dataDir: dir.path, clock, emulator, projectId })
    await f.schedules.sync()

    const publish = {
      type: 'publish' as const,
      topic: COMMAND_TOPIC,
      payload: '312145610',
      qos: 1 as const,
      retain: false,
    }
    expect(f.scheduler.get('fs-weekday-morning')?.definition).toEqual({
      id: 'fs-weekday-morning',
      name: '평일 아침',
      enabled: true,
      missed: { policy: 'skip' },
      kind: 'weekly',
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      at: '07:30',
      actions: [publish],
    })
    expect(f.scheduler.get('fs-holiday')?.definition).toEqual({
      id: 'fs-holiday',
      name: 'schedule',
      enabled: true,
      missed: { policy: 'skip' },
      kind: 'once',
      at: '2030-05-05T10:15',
      afterRun: 'keep',
      actions: [publish],
    })
    expect(f.scheduler.preview('fs-weekday-morning', 2)).toEqual([
      at('2030-05-02T07:30:00+09:00'),
      at('2030-05-03T07:30:00+09:00'),
    ])
    // A document id that is not a schedule id gets a stable hashed one.
    const invalid = f.of('firebase.schedule.invalid').map((e) => e.detail)
    expect(invalid.map((d) => d.document)).toEqual([`${COLLECTION}/no time`, `${COLLECTION}/yesterday`])
    expect(invalid[0]!.schedule).toMatch(/^fs-[0-9a-f]{16}$/)
    expect(invalid[0]!.reason).toContain('startTime')
    expect(invalid[1]!.reason).toContain('in the past')
    expect(f.schedules.docs().map((d) => [d.document.split('/').at(-1), d.state, d.command])).toEqual([
      ['holiday', 'scheduled', '312145610'],
      ['no time', 'invalid', null],
      ['weekday-morning', 'scheduled', '312145610'],
      ['yesterday', 'invalid', null],
    ])

    // A pass with nothing changed changes nothing, and reports nothing again.
    expect(await f.schedules.sync()).toEqual({ created: [], updated: [], removed: [], invalid: [] })

    await docs.set(
      COLLECTION,
      'weekday-morning',
      scheduleDoc({
        repeat: true,
        daysOfWeek: [true, false, false, false, false, false, true],
        startTime: '0800',
        lightEnable: false,
      }),
    )
    await docs.set(
      COLLECTION,
      'no time',
      scheduleDoc({
        repeat: true,
        daysOfWeek: [true, true, true, true, true, true, true],
        startTime: '2200',
      }),
    )
    await fetch(
      `${emulator.url}/v1/projects/${projectId}/databases/(default)/documents/${COLLECTION}/holiday`,
      {
        method: 'DELETE',
        headers: { authorization: 'Bearer owner' },
      },
    )
    const report = await f.schedules.sync()
    expect(report.updated).toEqual(['fs-weekday-morning'])
    expect(report.removed).toEqual(['fs-holiday'])
    expect(report.created).toEqual([invalid[0]!.schedule])
    expect(f.scheduler.get('fs-weekday-morning')?.definition).toMatchObject({
      days: ['sun', 'sat'],
      at: '08:00',
      actions: [{ ...publish, payload: '312045610' }],
    })
    expect(f.scheduler.get('fs-holiday')).toBeUndefined()
  })

  it('fire a one-shot at its time, publish its command and delete its document', async () => {
    using dir = tempDir()
    const projectId = project()
    const docs = emulator.docs(projectId)
    await docs.set(
      COLLECTION,
      'wake-up',
      scheduleDoc({ repeat: false, activeDate: '2030.05.01', startTime: '0930' }),
    )
    const clock = manualClock(START)
    await using f = await startSyncFixture({ dataDir: dir.path, clock, emulator, projectId })
    f.startOutbox()
    await f.schedules.sync()

    clock.set(at('2030-05-01T09:29:59+09:00'))
    await f.scheduler.idle()
    expect(f.published).toEqual([])
    clock.set(at('2030-05-01T09:30:00+09:00'))
    await f.scheduler.idle()
    expect(f.published).toEqual(['312145610'])

    await waitFor(() => f.of('firebase.schedule.deleted').length === 1, { what: 'the delete' })
    expect(f.of('firebase.schedule.deleted')[0]!.detail).toEqual({
      document: `${COLLECTION}/wake-up`,
      schedule: 'fs-wake-up',
      result: 'deleted',
    })
    expect(await docs.get(COLLECTION, 'wake-up')).toBeUndefined()
    // Its hub schedule goes with the document.
    await waitFor(() => f.scheduler.get('fs-wake-up') === undefined, { what: 'the schedule removed' })
    expect(f.schedules.docs()).toEqual([])
  })

  it('keep a fired one-shot whose document was edited before the delete went out, and schedule the edit', async () => {
    using dir = tempDir()
    const projectId = project()
    const docs = emulator.docs(projectId)
    await docs.set(
      COLLECTION,
      'wake-up',
      scheduleDoc({ repeat: false, activeDate: '2030.05.01', startTime: '0930' }),
    )
    const clock = manualClock(START)
    await using f = await startSyncFixture({ dataDir: dir.path, clock, emulator, projectId })
    await f.schedules.sync()
    clock.set(at('2030-05-01T09:30:00+09:00'))
    await f.scheduler.idle()
    expect(f.published).toEqual(['312145610'])
    // The delete is queued (the outbox is not delivering yet); meanwhile a phone moves it to tomorrow.
    expect(f.schedules.docs()[0]!.state).toBe('fired')
    await docs.set(
      COLLECTION,
      'wake-up',
      scheduleDoc({ repeat: false, activeDate: '2030.05.02', startTime: '0930', windowOpen: false }),
    )

    f.startOutbox()
    await waitFor(() => f.of('firebase.schedule.deleted').length === 1, { what: 'the delete attempt' })
    expect(f.of('firebase.schedule.deleted')[0]!.detail).toMatchObject({
      schedule: 'fs-wake-up',
      result: 'kept',
    })
    expect((await docs.get(COLLECTION, 'wake-up'))?.fields.activeDate).toBe('2030.05.02')
    await waitFor(() => f.scheduler.get('fs-wake-up')?.nextRunAt === at('2030-05-02T09:30:00+09:00'), {
      what: 'the edit scheduled',
    })

    clock.set(at('2030-05-02T09:30:00+09:00'))
    await f.scheduler.idle()
    expect(f.published).toEqual(['312145610', '312145600'])
    await waitFor(async () => (await docs.get(COLLECTION, 'wake-up')) === undefined, {
      what: 'the edited one deleted',
    })
  })

  it('never fire a one-shot twice, not across a restart either, and delete it once the outbox delivers', async () => {
    using dir = tempDir()
    const projectId = project()
    const docs = emulator.docs(projectId)
    await docs.set(
      COLLECTION,
      'wake-up',
      scheduleDoc({ repeat: false, activeDate: '2030.05.01', startTime: '0930' }),
    )
    const clock = manualClock(START)
    {
      await using f = await startSyncFixture({ dataDir: dir.path, clock, emulator, projectId })
      await f.schedules.sync()
      clock.set(at('2030-05-01T09:30:00+09:00'))
      await f.scheduler.idle()
      expect(f.published).toEqual(['312145610'])
      // Stopped before its delete was delivered: the document is still there.
    }
    expect(await docs.get(COLLECTION, 'wake-up')).toBeDefined()

    // Back within the minute the one-shot was due (on time by the scheduler's grace), then hours later.
    const again = manualClock(at('2030-05-01T09:30:20+09:00'))
    await using f = await startSyncFixture({ dataDir: dir.path, clock: again, emulator, projectId })
    expect(await f.schedules.sync()).toEqual({ created: [], updated: [], removed: [], invalid: [] })
    again.set(at('2030-05-01T23:00:00+09:00'))
    await f.scheduler.idle()
    expect(f.published).toEqual([])
    expect(f.of('schedule.run')).toEqual([])

    f.startOutbox()
    await waitFor(async () => (await docs.get(COLLECTION, 'wake-up')) === undefined, { what: 'the delete' })
  })
})

describe('the firestore action', () => {
  it('writes alarm documents through the outbox and keeps the newest N', async () => {
    using dir = tempDir()
    const projectId = project()
    const clock = manualClock(START)
    await using f = await startSyncFixture({ dataDir: dir.path, clock, emulator, projectId })
    const action = {
      type: 'firestore' as const,
      collection: 'appliance_alarm',
      document: 'alarm-{{n}}',
      data: {
        icon: 'aircon_icon',
        date: '2030.5.1.9.{{n}}.0',
        inform: '에어컨이 켜졌어요. #{{n}}',
        n: '{{n}}',
      },
      keepNewest: 3,
    }
    for (let n = 1; n <= 5; n++) {
      const result = await f.actions.run(action, { source: 'test', data: { n } })
      expect(result.ok).toBe(true)
    }
    f.startOutbox()
    await waitFor(() => f.of('delivery.succeeded').length === 5, { what: 'five writes' })
    const stored = await emulator.docs(projectId).list('appliance_alarm')
    expect(stored.map((d) => [d.name.split('/').at(-1), d.fields]).sort()).toEqual(
      [3, 4, 5].map((n) => [
        `alarm-${n}`,
        { icon: 'aircon_icon', date: `2030.5.1.9.${n}.0`, inform: `에어컨이 켜졌어요. #${n}`, n },
      ]),
    )
  })
})

describe('the Firestore client', () => {
  it('gives up on a server that accepts and never answers, at its deadline', async () => {
    const hanging = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Promise<Response>(() => {}),
    })
    try {
      const client = createFirestoreClient({
        url: `http://127.0.0.1:${hanging.port}`,
        projectId: 'demo-hearth',
        database: '(default)',
        tokens: staticToken('owner'),
        timeoutMs: 150,
      })
      const started = performance.now()
      const err = await client.list(COLLECTION).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(FirebaseFailure)
      expect((err as FirebaseFailure).kind).toBe('retry')
      expect((err as FirebaseFailure).message).toContain('within 150 ms')
      expect(performance.now() - started).toBeLessThan(2000)
      const commit = await client.commit([{ op: 'delete', document: 'x' }]).catch((e: unknown) => e)
      expect((commit as FirebaseFailure).kind).toBe('retry')
    } finally {
      await hanging.stop(true)
    }
  })
})
