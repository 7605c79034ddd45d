import { describe, expect, it } from 'bun:test'
import { scheduleSchema } from '../../src/jobs/schema.ts'
import { tempDir } from '../helpers/hub.ts'
import { iso, manualClock, note, startScheduler } from './support.ts'

const MIN = 60_000
// `note` messages carry the scheduled time in ms; shown as ISO to read.
const when = (m: string) => m.replace(/\d{13}/, (ms) => iso(Number(ms)))

describe('schedules from the config file and the API (docs/definitions.md)', () => {
  it('runs the config schedule on a reload that takes an API id, and the API one again once the file drops it', async () => {
    using dir = tempDir()
    const clock = manualClock(Date.parse('2025-01-01T00:00:00Z'))
    await using s = await startScheduler({ dataDir: dir.path, clock })
    s.scheduler.create(
      scheduleSchema.parse({ id: 'shared', kind: 'daily', at: '07:00', actions: [note('api')] }),
    )
    const fromConfig = scheduleSchema.parse({
      id: 'shared',
      kind: 'interval',
      every: '15m',
      actions: [note('config')],
    })

    s.scheduler.setConfigured([fromConfig])
    expect(s.scheduler.list().map((x) => [x.id, x.origin, x.definition.kind, iso(x.nextRunAt!)])).toEqual([
      ['shared', 'config', 'interval', '2025-01-01T00:15:00.000Z'],
    ])
    expect(s.scheduler.report()).toEqual({ shadowed: ['shared'], invalid: [] })
    clock.advance(15 * MIN)
    await s.scheduler.idle()
    expect(s.messages().map(when)).toEqual(['config 2025-01-01T00:15:00.000Z'])

    s.scheduler.setConfigured([])
    expect(s.scheduler.list().map((x) => [x.id, x.origin, x.definition.kind, iso(x.nextRunAt!)])).toEqual([
      ['shared', 'api', 'daily', '2025-01-01T07:00:00.000Z'],
    ])
    expect(s.scheduler.report()).toEqual({ shadowed: [], invalid: [] })
    clock.advance(7 * 60 * MIN)
    await s.scheduler.idle()
    expect(s.messages().map(when)).toEqual([
      'config 2025-01-01T00:15:00.000Z',
      'api 2025-01-01T07:00:00.000Z',
    ])
  })
})
