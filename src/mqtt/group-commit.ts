// Group commit: every change that must survive a crash is an operation; the operations of one
// tick go to the store in one `write`, and connections whose acknowledgements depend on them hold
// their output until it resolved (PUBACK, PUBREC, SUBACK only once durable). Writes never overlap.
import type { Connection } from './connection.ts'
import { isPromise } from './promise.ts'
import type { EngineStore, Message, StoreOp } from './types.ts'

/** Called once per write: the connections it held, the (message, publisher) pairs it deferred. */
type BatchDone = (
  gated: readonly Connection[],
  after: ReadonlyArray<Message | Connection | null>,
  err: unknown,
) => void

export class GroupCommit {
  /** The last batch the store made durable; a connection waiting for a later one holds its output. */
  committed = 0
  private ops: StoreOp[] = []
  private openBatch = 1
  private writing = false
  private scheduled = false
  private gated: Connection[] = []
  private after: Array<Message | Connection | null> = []
  private waiters: Array<() => void> = []

  constructor(
    private readonly store: EngineStore,
    private readonly done: BatchDone,
  ) {}

  op(o: StoreOp): void {
    this.ops.push(o)
    this.schedule()
  }

  get uncommitted(): boolean {
    return this.ops.length > 0
  }

  gate(conn: Connection): void {
    if (this.ops.length === 0) return
    if (conn.waitBatch !== this.openBatch) {
      conn.waitBatch = this.openBatch
      this.gated.push(conn)
    }
  }

  /** Keeps a `published` call for after the write when one is pending, so the hook hears in order. */
  deferPublished(message: Message, publisher: Connection | null): boolean {
    if (this.ops.length === 0 && this.after.length === 0) return false
    this.after.push(message, publisher)
    return true
  }

  durable(): Promise<void> {
    if (this.ops.length === 0 && !this.writing) return Promise.resolve()
    const { promise, resolve } = Promise.withResolvers<void>()
    this.waiters.push(resolve)
    this.schedule()
    return promise
  }

  private schedule(): void {
    if (this.scheduled || this.writing) return
    this.scheduled = true
    setImmediate(this.commit)
  }

  private readonly commit = (): void => {
    this.scheduled = false
    if (this.writing) return
    const { ops, gated, after, waiters } = this
    const batch = this.openBatch++
    this.ops = []
    this.gated = []
    this.after = []
    this.waiters = []
    this.writing = true
    const finish = (err: unknown) => {
      this.writing = false
      this.committed = batch
      this.done(gated, after, err)
      for (const w of waiters) w()
      if (this.ops.length > 0 || this.waiters.length > 0) this.schedule()
    }
    let result: unknown
    try {
      result = ops.length > 0 ? this.store.write(ops) : undefined
    } catch (err) {
      finish(err)
      return
    }
    if (isPromise(result)) result.then(() => finish(undefined), finish)
    else finish(undefined)
  }
}
