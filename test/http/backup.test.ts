import { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { createToken } from '../../src/store/tokens.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

describe('GET /api/v1/backup', () => {
  it('streams a consistent copy of the database to an admin', async () => {
    await using t = await startTestHub()
    const { secret } = createToken(t.hub.db, { name: 'ops', scope: 'admin' })
    const res = await fetch(`${t.url}/api/v1/backup`, { headers: { authorization: `Bearer ${secret}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/vnd.sqlite3')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="hearth-backup-.+\.db"$/)
    const bytes = new Uint8Array(await res.arrayBuffer())
    expect(new TextDecoder().decode(bytes.subarray(0, 16))).toBe('SQLite format 3\0')

    using dir = tempDir()
    const file = join(dir.path, 'copy.db')
    await Bun.write(file, bytes)
    const copy = new Database(file, { readonly: true })
    try {
      expect(copy.query('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
      expect(copy.query('SELECT username FROM users').all()).toEqual([{ username: 'admin' }])
    } finally {
      copy.close()
    }
  })

  it('refuses anyone but an admin', async () => {
    await using t = await startTestHub()
    expect((await fetch(`${t.url}/api/v1/backup`)).status).toBe(401)
    const { secret } = createToken(t.hub.db, { name: 'charts', scope: 'write' })
    const res = await fetch(`${t.url}/api/v1/backup`, { headers: { authorization: `Bearer ${secret}` } })
    expect(res.status).toBe(403)
    expect((await res.json()).code).toBe(40301)
  })
})
