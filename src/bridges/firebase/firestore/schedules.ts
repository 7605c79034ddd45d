import type { Database } from 'bun:sqlite'
import type { z } from 'zod'
import type { Bus } from '../../../bus/bus.ts'
import { HubError } from '../../../errors.ts'
import type { Logger } from '../../../log.ts'
import type { Outbox } from '../../../outbox/outbox.ts'
import type { Service } from '../../../runtime/service.ts'
import type { FirestoreSchedulesConfig } from '../config.ts'
import type { Health } from '../health.ts'
import type { FirestoreClient, FirestoreDocument } from './client.ts'
import { scheduleFromDoc } from './schedule-doc.ts'
import { type DocRow, deleteDoc, getDocBySchedule, listDocs, saveDoc, setDocState } from './store.ts'
import { FIRESTORE_KIND, type FirestoreDelivery } from './writes.ts'

interface FirestoreSchedulesOptions {
  collection: string
  config: FirestoreSchedulesConfig
  client: FirestoreClient
  scheduler: ScheduleTable
  outbox: Pick<Outbox, 'enqueue'>
  db: Database
  bus: Bus
  log: Logger
  health: Health
  now?: () => number
}

/**
 * The hub's scheduler as the mirror uses it (compose passes the scheduler). The scheduler sits
 * above the bridges, its schedules holding any action, so the mirror names only what it calls.
 */
export interface ScheduleTable {
  /** The schema a definition passes before `create` and `update` take it. */
  readonly schema: z.ZodType
  get(id: string): { doneAt: number | null } | undefined
  create(definition: unknown): unknown
  update(id: string, definition: unknown): unknown
  remove(id: string): void
}

/** What one pass over the collection did. */
interface SyncReport {
  created: string[]
  updated: string[]
  removed: string[]
  invalid: string[]
}

export interface FirestoreSchedules extends Service {
  /** Reads the collection now and applies what changed (a pass already going on is waited for, then one more runs). */
  sync(): Promise<SyncReport>
  /** Every document as last synced. */
  docs(): DocRow[]
  /** How a queued delete of a fired one-shot ended (called by the Firestore outbox handler). */
  deleted(
    delivery: Extract<FirestoreDelivery, { op: 'delete' }>,
    result: 'deleted' | 'kept',
    reason?: string,
  ): void
}

/**
 * Source (a)'s `schedule_mode` documents as hub schedules. The collection is
 * read every `pollInterval`; a document whose `updateTime` changed is parsed again and its hub
 * schedule created, replaced or removed. A one-shot's hub schedule is kept after it fires
 * (marked done, so it never fires again, across restarts too) and its document is deleted through
 * the outbox, only if its `updateTime` is still the one that fired: an edit made meanwhile wins
 * and is scheduled like any other change.
 */
export function createFirestoreSchedules(opts: FirestoreSchedulesOptions): FirestoreSchedules {
  const { db, bus, scheduler, collection } = opts
  const log = opts.log.child('firestore-schedules', { collection })
  const now = opts.now ?? Date.now
  const owner = 'firebase-firestore-schedules'
  let timer: ReturnType<typeof setTimeout> | undefined
  let abort = new AbortController()
  let started = false
  let current: Promise<SyncReport> | undefined
  let queued: Promise<SyncReport> | undefined

  const short = (name: string) => `${collection}/${name.slice(name.lastIndexOf('/') + 1)}`

  const scheduleIdFor = (doc: FirestoreDocument) =>
    /^[A-Za-z0-9_.-]{1,61}$/.test(doc.id) ? `fs-${doc.id}` : `fs-${hash(doc.name).slice(0, 16)}`

  const invalid = (
    doc: FirestoreDocument,
    row: DocRow | undefined,
    scheduleId: string,
    definitionHash: string | null,
    reason: string,
  ) => {
    if (row && row.state !== 'invalid' && scheduler.get(row.scheduleId)) scheduler.remove(row.scheduleId)
    saveDoc(db, {
      document: doc.name,
      scheduleId,
      updateTime: doc.updateTime,
      // Kept for an invalid one too, so the same version is not tried (and reported) again each pass.
      definitionHash,
      oneShot: false,
      state: 'invalid',
      reason,
      command: null,
      syncedAt: now(),
    })
    log.warn('schedule document not scheduled', { document: doc.id, reason })
    bus.emit(
      'firebase.schedule.invalid',
      { document: short(doc.name), schedule: scheduleId, reason },
      { subject: scheduleId },
    )
  }

  const apply = (doc: FirestoreDocument, row: DocRow | undefined, report: SyncReport) => {
    const scheduleId = row?.scheduleId ?? scheduleIdFor(doc)
    const made = scheduleFromDoc(scheduleId, doc.id, doc.fields, opts.config, scheduler.schema)
    const definitionHash = made.ok ? hash(JSON.stringify(made.definition)) : null
    if (row && row.updateTime === doc.updateTime) {
      // Unchanged; a fired one-shot stays fired even when the config that made it changed.
      if (row.definitionHash === definitionHash || row.state === 'fired') return
    }
    if (!made.ok) {
      invalid(doc, row, scheduleId, null, made.reason)
      report.invalid.push(scheduleId)
      return
    }
    const ours = row !== undefined && row.state !== 'invalid' && scheduler.get(scheduleId) !== undefined
    try {
      if (ours) scheduler.update(scheduleId, made.definition)
      else scheduler.create(made.definition)
    } catch (err) {
      if (!(err instanceof HubError)) throw err
      invalid(doc, row, scheduleId, definitionHash, reasonOf(err))
      report.invalid.push(scheduleId)
      return
    }
    saveDoc(db, {
      document: doc.name,
      scheduleId,
      updateTime: doc.updateTime,
      definitionHash,
      oneShot: made.oneShot,
      state: 'scheduled',
      reason: null,
      command: made.command,
      syncedAt: now(),
    })
    const change = ours ? 'updated' : 'created'
    report[change].push(scheduleId)
    log.info(`schedule ${change}`, { document: doc.id, schedule: scheduleId, command: made.command })
    bus.emit(
      'firebase.schedule.synced',
      { document: short(doc.name), schedule: scheduleId, change },
      { subject: scheduleId },
    )
  }

  const gone = (row: DocRow, report: SyncReport) => {
    if (row.state !== 'invalid' && scheduler.get(row.scheduleId)) scheduler.remove(row.scheduleId)
    deleteDoc(db, row.document)
    report.removed.push(row.scheduleId)
    bus.emit(
      'firebase.schedule.synced',
      { document: short(row.document), schedule: row.scheduleId, change: 'removed' },
      { subject: row.scheduleId },
    )
  }

  // A one-shot whose hub schedule is done fired: its document goes, if nobody changed it since.
  const settleFired = (row: DocRow) => {
    if (!row.oneShot || row.state !== 'scheduled') return
    if ((scheduler.get(row.scheduleId)?.doneAt ?? null) === null) return
    setDocState(db, row.document, 'fired', now())
    const delivery: FirestoreDelivery = {
      op: 'delete',
      collection,
      document: row.document,
      updateTime: row.updateTime,
    }
    opts.outbox
      .enqueue({
        kind: FIRESTORE_KIND,
        target: collection,
        // The same fired version is deleted once, however often this runs.
        key: `delete:${row.document}@${row.updateTime}`,
        payload: delivery,
      })
      .catch((err: unknown) => log.error('could not queue the delete of a fired schedule', { err }))
  }

  const pass = async (): Promise<SyncReport> => {
    const report: SyncReport = { created: [], updated: [], removed: [], invalid: [] }
    let docs: FirestoreDocument[]
    try {
      docs = await opts.client.list(collection, abort.signal)
      opts.health.up()
    } catch (err) {
      opts.health.down((err as Error).message)
      throw err
    }
    if (!started) return report
    const rows = new Map(listDocs(db).map((r) => [r.document, r]))
    for (const doc of docs) {
      apply(doc, rows.get(doc.name), report)
      rows.delete(doc.name)
    }
    for (const row of rows.values()) gone(row, report)
    for (const row of listDocs(db)) settleFired(row)
    return report
  }

  // Passes never overlap; a sync asked for during one runs once after it.
  const sync = (): Promise<SyncReport> => {
    if (!current) {
      current = pass().finally(() => {
        current = undefined
      })
      return current
    }
    queued ??= current
      .catch(() => undefined)
      .then(() => {
        queued = undefined
        return sync()
      })
    return queued
  }

  const loop = () => {
    timer = undefined
    if (!started) return
    sync()
      .catch((err: unknown) =>
        log.warn('reading schedule documents failed', { error: (err as Error).message }),
      )
      .finally(() => {
        if (started) timer = setTimeout(loop, opts.config.pollInterval)
      })
  }

  return {
    name: 'firebase-firestore-schedules',
    sync,
    docs: () => listDocs(db),
    deleted(delivery, result, reason) {
      const row = listDocs(db).find((r) => r.document === delivery.document)
      const schedule = row?.scheduleId ?? ''
      bus.emit(
        'firebase.schedule.deleted',
        { document: short(delivery.document), schedule, result, ...(reason ? { reason } : {}) },
        { subject: schedule },
      )
      // Gone: its hub schedule goes too. Kept: the edit is scheduled.
      if (started) void sync().catch(() => undefined)
    },
    start() {
      if (started) return
      started = true
      abort = new AbortController()
      bus.on(owner, 'schedule.run', (e) => {
        const row = getDocBySchedule(db, e.detail.id)
        if (row) settleFired(row)
      })
      loop()
    },
    async stop() {
      if (!started) return
      started = false
      bus.off(owner)
      if (timer) clearTimeout(timer)
      timer = undefined
      abort.abort()
      await Promise.allSettled([current, queued])
    },
  }
}

function reasonOf(err: HubError): string {
  const details = Array.isArray(err.details)
    ? (err.details as Array<{ path?: string; message?: string }>)
        .map((d) => (d.path ? `${d.path} ${d.message}` : d.message))
        .join('; ')
    : ''
  return details ? `${err.message}: ${details}` : err.message
}

function hash(text: string): string {
  return new Bun.CryptoHasher('sha256').update(text).digest('hex')
}
