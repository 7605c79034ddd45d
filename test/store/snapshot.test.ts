import { describe, expect, it } from 'bun:test'
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openStore } from '../../src/store/open.ts'
import { snapshotDatabase } from '../../src/store/snapshot.ts'
import { tempDir } from '../helpers/hub.ts'

describe('database snapshots (hearth backup, GET /api/v1/backup)', () => {
  it('are readable by their owner only (0600) even under a umask of 000', () => {
    using dir = tempDir()
    const { db } = openStore(join(dir.path, 'data'))
    const previous = process.umask(0)
    try {
      snapshotDatabase(db, join(dir.path, 'snap.db'))
    } finally {
      process.umask(previous)
      db.close()
    }
    expect((statSync(join(dir.path, 'snap.db')).mode & 0o777).toString(8)).toBe('600')
  })

  it('never overwrite a file, and leave nothing behind when the copy fails', () => {
    using dir = tempDir()
    const { db } = openStore(join(dir.path, 'data'))
    try {
      writeFileSync(join(dir.path, 'taken.db'), 'x')
      expect(() => snapshotDatabase(db, join(dir.path, 'taken.db'))).toThrow(
        expect.objectContaining({ code: 'EEXIST' }),
      )
      expect(() => snapshotDatabase(db, join(dir.path, 'no-such-dir', 'snap.db'))).toThrow()
      db.run('BEGIN')
      // VACUUM cannot run inside a transaction: the empty file made for it is removed again.
      expect(() => snapshotDatabase(db, join(dir.path, 'busy.db'))).toThrow()
      db.run('ROLLBACK')
    } finally {
      db.close()
    }
    expect(readdirSync(dir.path).sort()).toEqual(['data', 'taken.db'])
  })
})
