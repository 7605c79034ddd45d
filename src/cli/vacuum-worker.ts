// Runs `VACUUM INTO` off the main thread, so `hearth backup` can draw progress while SQLite writes
// the snapshot. Its own connection: a bun:sqlite handle cannot cross threads.
import { openDatabase } from '../store/open.ts'
import { snapshotDatabase } from '../store/snapshot.ts'

/** What `backup` posts: the live database and the file to write. */
export interface VacuumRequest {
  source: string
  target: string
}
/** The worker's one answer. */
export type VacuumResult = { ok: true } | { ok: false; error: string }

declare const self: Worker

self.onmessage = (e: MessageEvent<VacuumRequest>) => {
  let result: VacuumResult
  try {
    const db = openDatabase(e.data.source)
    try {
      // A consistent copy, mode 0600 from its creation: it holds hashes and secrets.
      snapshotDatabase(db, e.data.target)
    } finally {
      db.close()
    }
    result = { ok: true }
  } catch (err) {
    result = { ok: false, error: (err as Error).message }
  }
  self.postMessage(result)
}
