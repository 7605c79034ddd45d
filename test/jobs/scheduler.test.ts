import { describe, expect, it } from 'bun:test'
import { HubError } from '../../src/errors.ts'
import { scheduleSchema } from '../../src/jobs/schema.ts'
import { tempDir } from '../helpers/hub.ts'
import { waitFor } from '../helpers/wait.ts'
import { iso, manualClock, note, startScheduler } from './support.ts'

const MIN = 60_000
const H = 60 * MIN
const parse = (s: Record<string, unknown>) => scheduleSchema.parse(s)

/** A local HTTP API whose answers wait until released: a run that is still going. */
function slowApi() {
  let gate = Promise.withResolvers<void>()
  let hits = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch() {
      hits++
      await gate.promise
      return Response.json({ ok: true })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}/slow`,
    hits: () => hits,
    release() {
      gate.resolve()
      gate = Promise.withResolvers<void>()
    },
    [Symbol.dispose]() {
      gate.resolve()
      server.stop(true)
    },
  }
}

describe('scheduler', () => {
  it('fires */30 * * * * in Asia/Seoul as the clock moves and keeps each run in history', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-01-05T14:10:00Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock })
    const created = s.scheduler.create(
      parse({
        id: 'save-location',
        kind: 'cron',
        cron: '*/30 * * * *',
        timezone: 'Asia/Seoul',
        actions: [note('save')],
      }),
    )
    expect(iso(created.nextRunAt!)).toBe('2025-01-05T14:30:00.000Z')

    await clock.walk(59 * MIN, s.scheduler.idle)
    expect(
      s.of('schedule.run').map((e) => [iso(e.detail.scheduledAt), e.detail.status, e.detail.late]),
    ).toEqual([
      ['2025-01-05T14:30:00.000Z', 'ok', false],
      ['2025-01-05T15:00:00.000Z', 'ok', false],
    ])
    expect(s.messages()).toEqual([
      `save ${Date.parse('2025-01-05T14:30:00Z')}`,
      `save ${Date.parse('2025-01-05T15:00:00Z')}`,
    ])
    const runs = s.scheduler.runs('save-location', 10)
    expect(runs.map((r) => [iso(r.scheduledAt), r.status, r.results?.map((x) => x.ok)])).toEqual([
      ['2025-01-05T15:00:00.000Z', 'ok', [true]],
      ['2025-01-05T14:30:00.000Z', 'ok', [true]],
    ])
    expect(iso(s.scheduler.get('save-location')!.nextRunAt!)).toBe('2025-01-05T15:30:00.000Z')
  })

  it('fires weekly on Monday 00:10 Asia/Seoul, previewing the next runs first', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-01-01T00:00:00Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock, timezone: 'Asia/Seoul' })
    s.scheduler.create(
      parse({ id: 'path-daily', kind: 'weekly', days: ['mon'], at: '00:10', actions: [note('week')] }),
    )
    expect(s.scheduler.preview('path-daily', 2).map(iso)).toEqual([
      '2025-01-05T15:10:00.000Z',
      '2025-01-12T15:10:00.000Z',
    ])

    await clock.walk(14 * 24 * H, s.scheduler.idle)
    expect(s.of('schedule.run').map((e) => iso(e.detail.scheduledAt))).toEqual([
      '2025-01-05T15:10:00.000Z',
      '2025-01-12T15:10:00.000Z',
    ])
  })

  it('fires a one-shot once, then deletes, disables or keeps it as asked', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-03-01T08:00:00Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock, timezone: 'Asia/Seoul' })
    for (const afterRun of ['delete', 'disable', 'keep'])
      s.scheduler.create(
        parse({ id: afterRun, kind: 'once', at: '2025-03-01T18:00', afterRun, actions: [note(afterRun)] }),
      )
    expect(() =>
      s.scheduler.create(parse({ kind: 'once', at: '2025-03-01T09:00', actions: [note('past')] })),
    ).toThrow(HubError)

    clock.advance(2 * H)
    await s.scheduler.idle()
    expect(s.of('schedule.run').map((e) => [e.detail.id, iso(e.detail.scheduledAt)])).toEqual([
      ['delete', '2025-03-01T09:00:00.000Z'],
      ['disable', '2025-03-01T09:00:00.000Z'],
      ['keep', '2025-03-01T09:00:00.000Z'],
    ])
    expect(s.scheduler.get('delete')).toBeUndefined()
    expect(s.of('schedule.removed').map((e) => e.detail)).toEqual([{ id: 'delete', reason: 'one-shot done' }])
    const disabled = s.scheduler.get('disable')!
    expect([disabled.definition.enabled, disabled.doneAt, disabled.nextRunAt]).toEqual([
      false,
      clock.now() - H,
      null,
    ])
    const kept = s.scheduler.get('keep')!
    expect([kept.definition.enabled, kept.doneAt !== null, s.scheduler.preview('keep', 3)]).toEqual([
      true,
      true,
      [],
    ])

    clock.advance(48 * H)
    await s.scheduler.idle()
    expect(s.of('schedule.run')).toHaveLength(3)
  })

  it('never fires a one-shot twice when the hub died during its run', async () => {
    using dir = tempDir()
    using api = slowApi()
    const clock = manualClock(Date.parse('2025-03-01T00:00:00Z'))
    await using before = await startScheduler({ dataDir: dir.path, clock })
    before.scheduler.create(
      parse({
        id: 'boil',
        kind: 'once',
        at: '2025-03-01T00:05:00Z',
        actions: [{ type: 'poll', url: api.url }],
      }),
    )
    clock.advance(5 * MIN)
    await waitFor(() => api.hits() === 1, { what: 'the run to start' })
    expect(before.scheduler.runs('boil', 5).map((r) => r.status)).toEqual(['running'])

    // A second process on the same database, as after a crash: the claimed run is not made again.
    await using after = await startScheduler({ dataDir: dir.path, clock })
    expect(after.scheduler.runs('boil', 5).map((r) => [r.status, r.reason])).toEqual([
      ['interrupted', 'the hub stopped during the run'],
    ])
    expect(after.scheduler.get('boil')!.doneAt).toBe(Date.parse('2025-03-01T00:05:00Z'))
    clock.advance(H)
    expect(after.scheduler.tick().fired).toEqual([])
    expect(after.of('schedule.run')).toEqual([])
    expect(api.hits()).toBe(1)
  })

  it('follows each missed-run policy after downtime: skip, runIfLateWithin, runAll (bounded)', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-01-01T00:00:00Z'))
    const hourly = (id: string, missed: Record<string, unknown>) =>
      parse({ id, kind: 'cron', cron: '0 * * * *', missed, actions: [note(id)] })
    {
      await using s = await startScheduler({ dataDir: dir.path, clock })
      s.scheduler.create(hourly('skip', { policy: 'skip' }))
      s.scheduler.create(hourly('late', { policy: 'runIfLateWithin', within: '30m' }))
      s.scheduler.create(hourly('all', { policy: 'runAll', max: 3 }))
      clock.advance(H)
      await s.scheduler.idle()
      expect(s.of('schedule.run')).toHaveLength(3)
    }
    // Down from 01:00 to 06:20: 02:00 … 06:00 were missed.
    clock.set(Date.parse('2025-01-01T06:20:00Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock })
    await s.scheduler.idle()
    const runs = (id: string) =>
      s
        .of('schedule.run')
        .filter((e) => e.detail.id === id)
        .map((e) => [iso(e.detail.scheduledAt).slice(11, 16), e.detail.late])
    expect(runs('skip')).toEqual([])
    expect(runs('late')).toEqual([['06:00', true]])
    expect(runs('all')).toEqual([
      ['04:00', true],
      ['05:00', true],
      ['06:00', true],
    ])
    expect(
      s
        .of('schedule.skipped')
        .map((e) => [e.detail.id, e.detail.reason, e.detail.count])
        .sort(),
    ).toEqual([
      ['all', 'missed', 2],
      ['late', 'missed', 4],
      ['skip', 'missed', 5],
    ])
    expect(s.scheduler.runs('skip', 1)[0]).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('missed 5 runs'),
    })

    // Then on time again.
    clock.set(Date.parse('2025-01-01T07:00:00Z'))
    await s.scheduler.idle()
    for (const id of ['skip', 'late', 'all']) expect(runs(id).at(-1)).toEqual(['07:00', false])
  })

  it('skips a run with an event while the previous one is still going', async () => {
    using dir = tempDir()
    using api = slowApi()
    const clock = manualClock(Date.parse('2025-01-01T00:00:30Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock })
    s.scheduler.create(
      parse({ id: 'poll', kind: 'cron', cron: '* * * * *', actions: [{ type: 'poll', url: api.url }] }),
    )
    clock.advance(MIN)
    await waitFor(() => api.hits() === 1)
    expect(s.scheduler.get('poll')!.running).toBe(true)

    clock.advance(MIN)
    expect(s.of('schedule.skipped').map((e) => [iso(e.detail.scheduledAt), e.detail.reason])).toEqual([
      ['2025-01-01T00:02:00.000Z', 'overlap'],
    ])
    // Changed while running: the change applies from the next run; the running one still ends.
    s.scheduler.update(
      'poll',
      parse({ kind: 'cron', cron: '* * * * *', name: 'renamed', actions: [{ type: 'poll', url: api.url }] }),
    )
    api.release()
    await s.scheduler.idle()
    expect(s.scheduler.get('poll')!.running).toBe(false)
    clock.advance(MIN)
    await waitFor(() => api.hits() === 2)
    api.release()
    await s.scheduler.idle()
    expect(s.scheduler.runs('poll', 10).map((r) => [iso(r.scheduledAt).slice(11, 16), r.status])).toEqual([
      ['00:03', 'ok'],
      ['00:02', 'skipped'],
      ['00:01', 'ok'],
    ])
  })

  it('records a failing action and still runs the ones after it', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-01-01T00:00:00Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock })
    s.scheduler.create(
      parse({
        id: 'mixed',
        kind: 'interval',
        every: '1m',
        actions: [{ type: 'push', title: 'hi' }, note('after')],
      }),
    )
    clock.advance(MIN)
    await s.scheduler.idle()
    const [run] = s.scheduler.runs('mixed', 1)
    expect(run!.status).toBe('failed')
    expect(run!.results!.map((r) => [r.type, r.ok, r.ok ? null : r.code])).toEqual([
      ['push', false, 'no-executor'],
      ['event', true, null],
    ])
    expect(s.of('action.failed').map((e) => e.detail)).toEqual([
      { source: 'schedule:mixed', type: 'push', error: 'no executor for action type "push" in this hub' },
    ])
    expect(s.failures).toEqual([])
  })

  it('keeps schedules across restarts and mirrors the config file, which the API may not change', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-01-01T00:00:00Z'))
    const fromConfig = { id: 'weather', kind: 'interval', every: '900s', actions: [note('weather')] }
    {
      await using s = await startScheduler({ dataDir: dir.path, clock, configured: [fromConfig] })
      s.scheduler.create(parse({ id: 'api-made', kind: 'daily', at: '07:00', actions: [note('morning')] }))
      expect(s.scheduler.list().map((x) => [x.id, x.origin, iso(x.nextRunAt!)])).toEqual([
        ['api-made', 'api', '2025-01-01T07:00:00.000Z'],
        ['weather', 'config', '2025-01-01T00:15:00.000Z'],
      ])
      const conflict = (() => {
        try {
          s.scheduler.remove('weather')
        } catch (err) {
          return (err as HubError).code
        }
      })()
      expect(conflict).toBe(40901)
      clock.advance(15 * MIN)
      await s.scheduler.idle()
    }
    clock.advance(10 * MIN)
    // The config changed: the interval is new, the old API schedule is still there.
    await using s = await startScheduler({
      dataDir: dir.path,
      clock,
      configured: [{ ...fromConfig, every: '1h' }],
    })
    expect(
      s.scheduler.list().map((x) => [x.id, x.origin, x.lastRunAt && iso(x.lastRunAt), iso(x.nextRunAt!)]),
    ).toEqual([
      ['api-made', 'api', null, '2025-01-01T07:00:00.000Z'],
      ['weather', 'config', '2025-01-01T00:15:00.000Z', '2025-01-01T01:00:00.000Z'],
    ])
    expect(s.of('schedule.updated').map((e) => e.detail)).toEqual([{ id: 'weather', origin: 'config' }])
    await s.stop()
    await using gone = await startScheduler({ dataDir: dir.path, clock, configured: [] })
    expect(gone.scheduler.list().map((x) => x.id)).toEqual(['api-made'])
  })
})
