import { describe, expect, it } from 'bun:test'
import { createBus } from '../../src/bus/bus.ts'
import { silentLogger } from '../../src/log.ts'
import { createEventLog } from '../../src/store/event-log.ts'
import { queryEvents } from '../../src/store/events.ts'
import { openStore } from '../../src/store/open.ts'
import { tempDir } from '../helpers/hub.ts'

const DAY = 86_400_000

function setup(now: { t: number }) {
  const dir = tempDir()
  const { db } = openStore(dir.path)
  const bus = createBus(silentLogger(), () => now.t)
  const eventLog = createEventLog({ db, bus, log: silentLogger(), retentionMs: 30 * DAY, now: () => now.t })
  return {
    db,
    bus,
    eventLog,
    [Symbol.dispose]() {
      void eventLog.stop()
      db.close()
      dir[Symbol.dispose]()
    },
  }
}

describe('event log', () => {
  it('records events with time, type, subject and detail, and sets their id', async () => {
    const now = { t: 1_000 }
    using s = setup(now)
    await s.eventLog.start({ signal: new AbortController().signal, fail: () => {} })
    const ev = s.bus.emit('service.restarted', { service: 'slack', attempt: 2 }, { subject: 'slack' })
    expect(ev.id).toBeNumber()
    expect(queryEvents(s.db).items).toEqual([
      {
        id: ev.id!,
        ts: 1_000,
        type: 'service.restarted',
        subject: 'slack',
        detail: { service: 'slack', attempt: 2 },
      },
    ])
  })

  it('filters by type, subject and time and pages with a cursor, newest first', async () => {
    const now = { t: 0 }
    using s = setup(now)
    await s.eventLog.start({ signal: new AbortController().signal, fail: () => {} })
    for (let i = 0; i < 25; i++) {
      now.t = i * 1000
      s.bus.emit(
        'alert',
        { source: 'x', message: `m${i}`, severity: 'info' },
        { subject: i % 2 ? 'odd' : 'even' },
      )
    }
    const first = queryEvents(s.db, { subject: 'even', limit: 5 })
    expect(first.items.map((e) => e.ts)).toEqual([24_000, 22_000, 20_000, 18_000, 16_000])
    const second = queryEvents(s.db, { subject: 'even', limit: 5, cursor: first.nextCursor! })
    expect(second.items.map((e) => e.ts)).toEqual([14_000, 12_000, 10_000, 8_000, 6_000])
    const last = queryEvents(s.db, {
      subject: 'even',
      limit: 5,
      cursor: queryEvents(s.db, { subject: 'even', limit: 10 }).nextCursor!,
    })
    expect(last.items.map((e) => e.ts)).toEqual([4_000, 2_000, 0])
    expect(last.nextCursor).toBeUndefined()
    expect(queryEvents(s.db, { from: 3000, to: 6000 }).items.map((e) => e.ts)).toEqual([5000, 4000, 3000])
    expect(queryEvents(s.db, { types: ['hub.started'] }).items).toEqual([])
  })

  it('drops events older than the retention', async () => {
    const now = { t: 0 }
    using s = setup(now)
    await s.eventLog.start({ signal: new AbortController().signal, fail: () => {} })
    s.bus.emit('alert', { source: 'x', message: 'old', severity: 'info' })
    now.t = 29 * DAY
    s.bus.emit('alert', { source: 'x', message: 'recent', severity: 'info' })
    now.t = 31 * DAY
    expect(s.eventLog.prune()).toBe(1)
    expect(queryEvents(s.db).items.map((e) => (e.detail as { message: string }).message)).toEqual(['recent'])
  })

  it('stops listening when stopped', async () => {
    const now = { t: 0 }
    using s = setup(now)
    await s.eventLog.start({ signal: new AbortController().signal, fail: () => {} })
    void s.eventLog.stop()
    s.bus.emit('alert', { source: 'x', message: 'after stop', severity: 'info' })
    expect(queryEvents(s.db).items).toEqual([])
  })
})
