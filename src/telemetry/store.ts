import type { Database, Statement } from 'bun:sqlite'

export const MINUTE = 60_000
export const HOUR = 3_600_000

/** Roll-up widths, ms; each has a table of closed buckets and one open bucket per series. */
export type Width = typeof MINUTE | typeof HOUR

/** One roll-up bucket as stored (and as merged in memory before it is written). */
export interface Bucket {
  bucket: number
  min: number
  max: number
  sum: number
  count: number
  last: number
  lastTs: number
}

interface SeriesRow {
  id: number
  device: string
  metric: string
}

export interface Latest {
  device: string
  metric: string
  ts: number
  value: number
}

export interface RawRow {
  series: number
  ts: number
  value: number
}

type BucketValues = [number, number, number, number, number, number, number]

const CLOSED: Record<Width, string> = { [MINUTE]: 'telemetry_minute', [HOUR]: 'telemetry_hour' }
const BUCKET_COLUMNS = 'bucket, min, max, sum, count, last, last_ts'
// Rows per multi-row INSERT: one statement call per hundred readings instead of one per reading.
const INSERT_CHUNK = 100

const toBucket = ([bucket, min, max, sum, count, last, lastTs]: BucketValues): Bucket => ({
  bucket,
  min,
  max,
  sum,
  count,
  last,
  lastTs,
})
const bucketArgs = (b: Bucket) => [b.bucket, b.min, b.max, b.sum, b.count, b.last, b.lastTs] as const

/**
 * The telemetry tables (migration 7) behind prepared statements: the writer runs thousands of
 * statements a second, so none is compiled or looked up per call. Callers own transactions.
 */
export function createTelemetryStore(db: Database) {
  // Compiled on first use, so building the store (in a service factory) touches no database.
  let compiled: ReturnType<typeof compile> | undefined
  const stmts = () => (compiled ??= compile(db))
  const inserts = new Map<number, Statement>()
  const insertOf = (rows: number) => {
    let stmt = inserts.get(rows)
    if (!stmt) {
      // RETURNING lists only the rows OR IGNORE let in, which tells repeats apart.
      const values = Array.from({ length: rows }, () => '(?, ?, ?)').join(', ')
      stmt = db.prepare(
        `INSERT OR IGNORE INTO telemetry_raw (series, ts, value) VALUES ${values} RETURNING series, ts`,
      )
      inserts.set(rows, stmt)
    }
    return stmt
  }

  const findSeries = (device: string, metric: string): number | undefined =>
    (stmts().findSeries.get(device, metric) as { id: number } | null)?.id

  return {
    db,
    findSeries,

    /** The series id of (device, metric), created on first use. */
    ensureSeries(device: string, metric: string, now: number): number {
      return (
        findSeries(device, metric) ?? (stmts().insertSeries.get(device, metric, now) as { id: number }).id
      )
    },

    listSeries(): SeriesRow[] {
      return db.query('SELECT id, device, metric FROM telemetry_series ORDER BY id').all() as SeriesRow[]
    },

    /** Stores raw readings; false where the series already had a reading at that ms (a repeated send). */
    insertRaw(rows: readonly RawRow[]): boolean[] {
      const stored: boolean[] = new Array(rows.length)
      for (let at = 0; at < rows.length; at += INSERT_CHUNK) {
        const chunk = rows.slice(at, at + INSERT_CHUNK)
        const args: number[] = []
        for (const r of chunk) args.push(r.series, r.ts, r.value)
        const inserted = insertOf(chunk.length).values(...args) as [number, number][]
        if (inserted.length === chunk.length) {
          for (let i = 0; i < chunk.length; i++) stored[at + i] = true
          continue
        }
        // Some were repeats: only the first reading of each inserted (series, ts) counts.
        const fresh = new Set(inserted.map(([series, ts]) => `${series}:${ts}`))
        for (let i = 0; i < chunk.length; i++) {
          const key = `${chunk[i]!.series}:${chunk[i]!.ts}`
          stored[at + i] = fresh.delete(key)
        }
      }
      return stored
    },

    /** Folds a bucket into the closed roll-up table (or stores it there). */
    upsertClosed(width: Width, series: number, b: Bucket): void {
      stmts().upserts[width].run(series, ...bucketArgs(b))
    },

    loadOpen(series: number, width: Width): Bucket | undefined {
      const row = stmts().loadOpen.values(series, width)[0] as BucketValues | undefined
      return row ? toBucket(row) : undefined
    },

    saveOpen(series: number, width: Width, b: Bucket): void {
      stmts().saveOpen.run(series, width, ...bucketArgs(b))
    },

    /** Raw readings in [from, to], oldest first, at most `limit` rows (-1: all), as [ts, value] pairs. */
    selectRaw(series: number, from: number, to: number, limit: number): [number, number][] {
      return db
        .query(
          'SELECT ts, value FROM telemetry_raw WHERE series = ? AND ts >= ? AND ts <= ? ORDER BY ts LIMIT ?',
        )
        .values(series, from, to, limit) as [number, number][]
    },

    /** Roll-up buckets starting in [from, to], oldest first: the closed ones, then the open one. */
    selectBuckets(width: Width, series: number, from: number, to: number): Bucket[] {
      const rows = db
        .query(
          `SELECT ${BUCKET_COLUMNS} FROM ${CLOSED[width]} WHERE series = ? AND bucket >= ? AND bucket <= ?
           UNION ALL
           SELECT ${BUCKET_COLUMNS} FROM telemetry_open WHERE series = ? AND width = ? AND bucket >= ? AND bucket <= ?
           ORDER BY bucket`,
        )
        .values(series, from, to, series, width, from, to) as BucketValues[]
      return rows.map(toBucket)
    },

    /** The latest value of every metric of a device (or of every device), by device then metric. */
    selectLatest(device?: string): Latest[] {
      // The open minute is the newest bucket of its series, so its last value is the latest reading.
      const where = device === undefined ? '' : 'AND s.device = ?'
      return db
        .query(
          `SELECT s.device, s.metric, o.last_ts AS ts, o.last AS value
           FROM telemetry_open o JOIN telemetry_series s ON s.id = o.series
           WHERE o.width = ${MINUTE} ${where} ORDER BY s.device, s.metric`,
        )
        .all(...(device === undefined ? [] : [device])) as Latest[]
    },

    /** Deletes one series' raw readings or closed buckets older than `before`; returns how many. */
    prune(table: 'raw' | Width, series: number, before: number): number {
      const [name, column] = table === 'raw' ? ['telemetry_raw', 'ts'] : [CLOSED[table], 'bucket']
      // Per series so the delete walks the primary key instead of scanning the whole table.
      return db.query(`DELETE FROM ${name} WHERE series = ? AND ${column} < ?`).run(series, before).changes
    },
  }
}

export type TelemetryStore = ReturnType<typeof createTelemetryStore>

function compile(db: Database) {
  const upsert = (width: Width) =>
    // In an UPDATE every right-hand side sees the old row, so last and last_ts compare the same row.
    db.prepare(
      `INSERT INTO ${CLOSED[width]} (series, ${BUCKET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (series, bucket) DO UPDATE SET
         min = min(min, excluded.min),
         max = max(max, excluded.max),
         sum = sum + excluded.sum,
         count = count + excluded.count,
         last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,
         last_ts = max(last_ts, excluded.last_ts)`,
    )
  return {
    findSeries: db.prepare('SELECT id FROM telemetry_series WHERE device = ? AND metric = ?'),
    insertSeries: db.prepare(
      'INSERT INTO telemetry_series (device, metric, created_at) VALUES (?, ?, ?) RETURNING id',
    ),
    upserts: { [MINUTE]: upsert(MINUTE), [HOUR]: upsert(HOUR) } as Record<Width, Statement>,
    loadOpen: db.prepare(`SELECT ${BUCKET_COLUMNS} FROM telemetry_open WHERE series = ? AND width = ?`),
    saveOpen: db.prepare(
      `INSERT OR REPLACE INTO telemetry_open (series, width, ${BUCKET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
  }
}
