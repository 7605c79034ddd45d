import type { Database } from 'bun:sqlite'

/**
 * Runs the persistence's statements in one transaction per event-loop turn. Every op runs in call
 * order (so a read sees the writes asked for before it, as in the memory persistence) and its
 * promise settles only once its transaction is committed: when Aedes awaits a write, the write is
 * durable (WAL; a killed process loses nothing committed).
 */
export interface BatchWriter {
  /** Queues `op` for the next batch; resolves with its result after the commit. */
  run<T>(op: () => T): Promise<T>
  /**
   * Queues `op` for the next batch and resolves at once; a failure goes to `onError`. For writes
   * whose durability an op queued after them guarantees: that one commits no earlier.
   */
  defer(op: () => void): Promise<void>
  /** Commits what is queued now. */
  flush(): void
  /** From now on each op commits on its own, at once (the broker has closed; nothing is left to batch). */
  close(): void
}

interface Queued {
  op: () => unknown
  resolve(value: unknown): void
  reject(err: unknown): void
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown }

export function createBatchWriter(db: Database, onError: (err: unknown) => void): BatchWriter {
  let queue: Queued[] = []
  let timer: ReturnType<typeof setImmediate> | undefined
  let closed = false
  // A failed commit is reported once, not once per deferred op of its batch.
  const reported = new WeakSet<object>()

  // An op that throws settles alone; the rest of its batch still commits. Our ops throw only
  // before writing (a missing packet), and SQLite errors that poison a transaction fail the
  // COMMIT, which rejects the whole batch below.
  const runBatch = db.transaction((batch: Queued[], outcomes: Outcome[]) => {
    for (const q of batch) {
      try {
        outcomes.push({ ok: true, value: q.op() })
      } catch (err) {
        outcomes.push({ ok: false, err })
      }
    }
  })
  const runOne = db.transaction((op: () => unknown) => op())

  function flush(): void {
    if (timer) clearImmediate(timer)
    timer = undefined
    if (queue.length === 0) return
    const batch = queue
    queue = []
    const outcomes: Outcome[] = []
    try {
      runBatch(batch, outcomes)
    } catch (err) {
      onError(err)
      if (err instanceof Object) reported.add(err)
      for (const q of batch) q.reject(err)
      return
    }
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i] as Outcome
      const q = batch[i] as Queued
      if (o.ok) q.resolve(o.value)
      else q.reject(o.err)
    }
  }

  const run = <T>(op: () => T): Promise<T> => {
    if (closed) {
      try {
        return Promise.resolve(runOne(op) as T)
      } catch (err) {
        return Promise.reject(err)
      }
    }
    const { promise, resolve, reject } = Promise.withResolvers<T>()
    queue.push({ op, resolve: resolve as (v: unknown) => void, reject })
    // setImmediate, not a microtask: Aedes handles every packet of a socket read before the
    // loop turns, so one commit covers the whole read.
    timer ??= setImmediate(flush)
    return promise
  }

  return {
    run,
    defer(op) {
      run(op).catch((err) => {
        if (!(err instanceof Object && reported.has(err))) onError(err)
      })
      return Promise.resolve()
    },
    flush,
    close() {
      flush()
      closed = true
    },
  }
}
