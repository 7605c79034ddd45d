import type { Database } from 'bun:sqlite'
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRoute } from '@hono/zod-openapi'
import { snapshotDatabase } from '../../store/snapshot.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses } from './api-shared.ts'

interface BackupRoutesDeps {
  db: Database
  requireAuth: RequireAuth
  /** Where the snapshot is written before it is streamed (default: the OS temp dir). */
  tmpDir?: string
  now?: () => number
}

const CHUNK = 256 * 1024

const download = createRoute({
  method: 'get',
  path: '/',
  operationId: 'downloadBackup',
  summary: 'Download a consistent copy of the database (admin); restore it with `hearth restore`',
  responses: {
    200: {
      description: 'the SQLite database file',
      content: { 'application/vnd.sqlite3': { schema: { type: 'string', format: 'binary' } } },
    },
    ...errorResponses(401, 403),
  },
})

/**
 * `GET /backup` (the console's Settings): a snapshot into a temp file (0600, in a 0700 directory)
 * — one consistent copy while writers go on, as `hearth backup` writes — then stream it. The file
 * is unlinked as soon as it is open, so nothing is left behind even if the download is cut off.
 */
export function createBackupRoutes(deps: BackupRoutesDeps) {
  const now = deps.now ?? Date.now
  const router = createRouter()
  router.use('/', deps.requireAuth('admin'))
  router.openapi(download, (c) => {
    const dir = mkdtempSync(join(deps.tmpDir ?? tmpdir(), 'hearth-backup-'))
    const file = join(dir, 'hearth.db')
    let fd: number
    try {
      snapshotDatabase(deps.db, file)
      fd = openSync(file, 'r')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const buf = new Uint8Array(CHUNK)
        const n = readSync(fd, buf, 0, CHUNK, null)
        if (n > 0) controller.enqueue(buf.subarray(0, n))
        else {
          closeSync(fd)
          controller.close()
        }
      },
      cancel() {
        closeSync(fd)
      },
    })
    const stamp = new Date(now()).toISOString().replace(/[:.]/g, '-')
    return c.body(stream, 200, {
      'content-type': 'application/vnd.sqlite3',
      'content-disposition': `attachment; filename="hearth-backup-${stamp}.db"`,
      'cache-control': 'no-store',
    })
  })
  return router
}
