import { describe, expect, it } from 'bun:test'
import { createApiFixture } from './fixture.ts'

interface EventPage {
  items: { id: number; type: string; subject?: string; ts: number }[]
  nextCursor?: string
}

async function seeded() {
  const f = await createApiFixture()
  const t0 = Date.parse('2025-03-01T00:00:00Z')
  for (let i = 0; i < 5; i++) {
    f.bus.emit(
      'device.online',
      { device: `d${i % 2}`, clientId: 'c', address: null },
      { subject: `d${i % 2}`, ts: t0 + i * 60_000 },
    )
    f.bus.emit(
      'device.offline',
      { device: `d${i % 2}`, clientId: 'c', reason: 'disconnect' },
      { subject: `d${i % 2}`, ts: t0 + i * 60_000 + 1 },
    )
  }
  return { f, t0 }
}

describe('events API', () => {
  it('filters by type, subject and time range', async () => {
    const { f, t0 } = await seeded()
    await using _ = f
    const read = f.bearer('read')
    const get = async (q: string) =>
      ((await (await f.request(`/api/v1/events?${q}`, { headers: read })).json()) as EventPage).items
    expect((await get('type=device.online')).map((e) => e.type)).toEqual(Array(5).fill('device.online'))
    expect((await get('type=device.online,device.offline&subject=d1')).map((e) => e.subject)).toEqual(
      Array(4).fill('d1'),
    )
    const from = new Date(t0 + 60_000).toISOString()
    const ranged = await get(`type=device.online&from=${from}&to=${t0 + 3 * 60_000}`)
    expect(ranged.map((e) => e.ts)).toEqual([t0 + 2 * 60_000, t0 + 60_000])
  })

  it('reads a type ending in * as a prefix, as the console does (device.*, or * for all)', async () => {
    const { f } = await seeded()
    await using _ = f
    f.bus.emit('hook.rejected', { hook: 'door', code: 40102, reason: 'bad signature' }, { subject: 'door' })
    const read = f.bearer('read')
    const types = async (q: string) => {
      const res = await f.request(`/api/v1/events?${q}`, { headers: read })
      return [...new Set(((await res.json()) as EventPage).items.map((e) => e.type))].sort()
    }
    expect(await types('type=device.*')).toEqual(['device.offline', 'device.online'])
    expect(await types('type=device.*,hook.rejected')).toEqual([
      'device.offline',
      'device.online',
      'hook.rejected',
    ])
    expect(await types('type=hook.*&limit=1000')).toEqual(['hook.rejected'])
    expect(await types('type=*&limit=1000')).toEqual(await types('limit=1000'))
    expect(await types('type=dev*&subject=d1')).toEqual(['device.offline', 'device.online'])
  })

  it('pages newest first with a cursor until the last page', async () => {
    const { f } = await seeded()
    await using _ = f
    const read = f.bearer('read')
    const seen: number[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const q = `type=device.online,device.offline&limit=3${cursor ? `&cursor=${cursor}` : ''}`
      const page = (await (await f.request(`/api/v1/events?${q}`, { headers: read })).json()) as EventPage
      seen.push(...page.items.map((e) => e.id))
      cursor = page.nextCursor
      pages++
    } while (cursor)
    expect(pages).toBe(4)
    expect(seen).toHaveLength(10)
    expect(seen).toEqual([...seen].sort((a, b) => b - a))
  })

  it('refuses a time that is not a time with 40002', async () => {
    await using f = await createApiFixture()
    const res = await f.request('/api/v1/events?from=yesterday-ish', { headers: f.bearer('read') })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { code: number }).code).toBe(40002)
  })
})
