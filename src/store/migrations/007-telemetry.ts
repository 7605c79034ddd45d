import type { Migration } from './index.ts'

/**
 * Telemetry. Readings are the largest table by far, so they are laid out for
 * size: a (device, metric) pair becomes a small integer series id, rows live in a WITHOUT ROWID
 * b-tree keyed (series, ts) — no separate rowid or index copy — with integer ms times and REAL
 * values (SQLite writes integral REALs as small integers). Roll-ups keep sum and count, not the
 * average, so buckets can be merged into larger ones exactly.
 *
 * Each series' current minute and hour live in `telemetry_open` until a later bucket starts: a
 * group commit then rewrites the one or two pages holding every series' open buckets instead of
 * one page per series in each roll-up table, which is most of what a commit costs. Queries read
 * closed buckets from `telemetry_minute` / `telemetry_hour` plus the open one.
 */
export const telemetry: Migration = {
  version: 7,
  name: 'telemetry: series, raw readings, minute and hour roll-ups',
  up(db) {
    db.run(`CREATE TABLE telemetry_series (
      id INTEGER PRIMARY KEY,
      device TEXT NOT NULL,
      metric TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      UNIQUE (device, metric)
    ) STRICT`)
    db.run(`CREATE TABLE telemetry_raw (
      series INTEGER NOT NULL,
      ts INTEGER NOT NULL,
      value REAL NOT NULL,
      PRIMARY KEY (series, ts)
    ) STRICT, WITHOUT ROWID`)
    // bucket = start of the minute or hour, ms; last_ts decides "last" when readings arrive out of order.
    const bucketColumns = `bucket INTEGER NOT NULL,
      min REAL NOT NULL,
      max REAL NOT NULL,
      sum REAL NOT NULL,
      count INTEGER NOT NULL,
      last REAL NOT NULL,
      last_ts INTEGER NOT NULL`
    for (const table of ['telemetry_minute', 'telemetry_hour']) {
      db.run(`CREATE TABLE ${table} (
        series INTEGER NOT NULL,
        ${bucketColumns},
        PRIMARY KEY (series, bucket)
      ) STRICT, WITHOUT ROWID`)
    }
    // width: 60000 (minute) or 3600000 (hour). The open minute's last value is the series' latest.
    db.run(`CREATE TABLE telemetry_open (
      series INTEGER NOT NULL,
      width INTEGER NOT NULL,
      ${bucketColumns},
      PRIMARY KEY (series, width)
    ) STRICT, WITHOUT ROWID`)
  },
}
