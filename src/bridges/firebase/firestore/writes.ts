import type { ActionExecutor } from '../../../actions/runner.ts'
import { render } from '../../../actions/template.ts'
import type { Outbox } from '../../../outbox/outbox.ts'
import { type DeliveryHandler, Outcome } from '../../../outbox/types.ts'
import { valueAt } from '../../../util/json-path.ts'
import type { OutboxAction } from '../../outbox-action.ts'
import { FirebaseFailure, outcomeOf } from '../http.ts'
import type { FirestoreAction } from './action-schema.ts'
import type { FirestoreClient } from './client.ts'

/** The outbox kind of every Firestore write; the target is the collection, so writes to one go in order. */
export const FIRESTORE_KIND = 'firestore'

/** What the outbox keeps for one Firestore write. */
export type FirestoreDelivery =
  | { op: 'set'; collection: string; id: string; data: Record<string, unknown>; keepNewest?: number }
  /** Deletes a fired schedule document, only if nobody changed it since `updateTime`. */
  | { op: 'delete'; collection: string; document: string; updateTime: string }

interface FirestoreWritesOptions {
  client: FirestoreClient
  outbox: Pick<Outbox, 'enqueue'>
  /** Told how a conditional delete ended: `kept` when the document had changed or was gone. */
  onDelete?(
    delivery: Extract<FirestoreDelivery, { op: 'delete' }>,
    result: 'deleted' | 'kept',
    reason?: string,
  ): void
}

// Firestore's limit of writes per commit.
const MAX_WRITES = 500

/** The `firestore` action (queued in the outbox, like every outbound write) and the outbox handler. */
export function createFirestoreWrites(opts: FirestoreWritesOptions): OutboxAction<FirestoreAction> {
  const { client } = opts

  const executor: ActionExecutor<FirestoreAction> = async (action, ctx) => {
    const data = ctx.data ?? {}
    const missing: string[] = []
    let id = autoId()
    if (action.document !== undefined) {
      const r = render(action.document, data)
      if (r.missing.length || !r.text || r.text.includes('/'))
        throw new Error(`document id "${r.text}" is not usable (missing: ${r.missing.join(', ') || 'none'})`)
      id = r.text
    }
    const fields = fill(action.data, data, missing) as Record<string, unknown>
    const delivery: FirestoreDelivery = {
      op: 'set',
      collection: action.collection,
      id,
      data: fields,
      ...(action.keepNewest ? { keepNewest: action.keepNewest } : {}),
    }
    const outboxId = await opts.outbox.enqueue({
      kind: FIRESTORE_KIND,
      target: action.collection,
      payload: delivery,
    })
    return { outboxId, collection: action.collection, document: id, ...(missing.length ? { missing } : {}) }
  }

  const handler: DeliveryHandler = {
    // One write at a time per collection: keepNewest then sees the collection its write left.
    concurrency: () => 1,
    async deliver(entry, signal) {
      const d = entry.payload as FirestoreDelivery
      try {
        if (d.op === 'delete') {
          try {
            await client.commit([{ op: 'delete', document: d.document, updateTime: d.updateTime }], signal)
          } catch (err) {
            // The precondition failed: edited since it fired (the edit wins) or already gone.
            if (err instanceof FirebaseFailure && err.vendorStatus === 'FAILED_PRECONDITION') {
              opts.onDelete?.(d, 'kept', err.message)
              return Outcome.ok(err.status)
            }
            throw err
          }
          opts.onDelete?.(d, 'deleted')
          return Outcome.ok()
        }
        await client.commit(
          [{ op: 'set', document: client.documentName(d.collection, d.id), data: d.data }],
          signal,
        )
        if (d.keepNewest) await trim(d.collection, d.keepNewest, signal)
        return Outcome.ok()
      } catch (err) {
        return outcomeOf(err)
      }
    },
  }

  // Newest by creation time; ties (one commit) by name, so the order is the same on every run.
  const trim = async (collection: string, keep: number, signal: AbortSignal) => {
    const docs = await client.list(collection, signal)
    docs.sort((a, b) =>
      a.createTime === b.createTime ? (a.name < b.name ? 1 : -1) : a.createTime < b.createTime ? 1 : -1,
    )
    const old = docs.slice(keep)
    for (let i = 0; i < old.length; i += MAX_WRITES) {
      await client.commit(
        old.slice(i, i + MAX_WRITES).map((doc) => ({ op: 'delete', document: doc.name })),
        signal,
      )
    }
  }

  return { executor, handler }
}

// String values are templates; one that is a single placeholder keeps the value's type.
function fill(value: unknown, data: Record<string, unknown>, missing: string[]): unknown {
  if (typeof value === 'string') {
    const whole = /^\{\{\s*([^{}|]+?)\s*\}\}$/.exec(value)
    if (whole) {
      const v = valueAt(data, whole[1]!)
      if (v === undefined) missing.push(whole[1]!)
      return v ?? null
    }
    const r = render(value, data)
    missing.push(...r.missing)
    return r.text
  }
  if (Array.isArray(value)) return value.map((v) => fill(v, data, missing))
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, data, missing)]))
  return value
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A 20-character id like the ones Firestore's SDKs make for `add()`. */
function autoId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20))
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('')
}
