import type { TokenSource } from '../auth.ts'
import { FirebaseFailure, failureOf, withDeadline } from '../http.ts'
import { decodeFields, encodeFields, type FirestoreFields } from './values.ts'

/** A document as read: its fields as plain JSON and the server's times (RFC 3339, microseconds). */
export interface FirestoreDocument {
  /** Full resource name, `projects/…/databases/…/documents/<collection>/<id>`. */
  name: string
  id: string
  fields: Record<string, unknown>
  createTime: string
  updateTime: string
}

/** One write of a commit: set a whole document, or delete one (only if unchanged since `updateTime`). */
type FirestoreWrite =
  | { op: 'set'; document: string; data: Record<string, unknown> }
  | { op: 'delete'; document: string; updateTime?: string }

/** The Firestore REST calls the hub makes; every one has a deadline [STYLE 9]. */
export interface FirestoreClient {
  documentName(collection: string, id: string): string
  /** Every document of a collection, all pages. */
  list(collection: string, signal?: AbortSignal): Promise<FirestoreDocument[]>
  /** Applies the writes atomically; a failed precondition throws with vendorStatus FAILED_PRECONDITION. */
  commit(writes: FirestoreWrite[], signal?: AbortSignal): Promise<void>
}

interface FirestoreClientOptions {
  /** `https://firestore.googleapis.com`, or the emulator's `http://127.0.0.1:<port>`. */
  url: string
  projectId: string
  database: string
  tokens: TokenSource
  timeoutMs: number
  fetch?: typeof fetch
}

const PAGE_SIZE = 300
// A runaway listing (a collection far larger than schedules ever are) stops here.
const MAX_PAGES = 100

export function createFirestoreClient(opts: FirestoreClientOptions): FirestoreClient {
  const doFetch = opts.fetch ?? fetch
  const root = `projects/${opts.projectId}/databases/${opts.database}/documents`
  const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/')

  const request = async (url: string, init: RequestInit, what: string, signal?: AbortSignal) => {
    const token = await opts.tokens.token(signal)
    const res = await withDeadline(
      doFetch,
      url,
      { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } },
      opts.timeoutMs,
      signal,
    )
    if (!res.ok) throw failureOf(res, what)
    return res.body
  }

  return {
    documentName: (collection, id) => `${root}/${collection}/${id}`,

    async list(collection, signal) {
      const docs: FirestoreDocument[] = []
      let pageToken: string | undefined
      for (let page = 0; page < MAX_PAGES; page++) {
        const q = new URLSearchParams({ pageSize: String(PAGE_SIZE), ...(pageToken ? { pageToken } : {}) })
        const body = (await request(
          `${opts.url}/v1/${root}/${encodePath(collection)}?${q}`,
          { method: 'GET' },
          `list ${collection}`,
          signal,
        )) as { documents?: RawDocument[]; nextPageToken?: string } | undefined
        for (const d of body?.documents ?? []) docs.push(toDocument(d))
        pageToken = body?.nextPageToken
        if (!pageToken) return docs
      }
      throw new FirebaseFailure(
        'bad-request',
        `list ${collection}: more than ${MAX_PAGES * PAGE_SIZE} documents`,
      )
    },

    async commit(writes, signal) {
      const body = {
        writes: writes.map((w) =>
          w.op === 'set'
            ? { update: { name: w.document, fields: encodeFields(w.data) } }
            : {
                delete: w.document,
                // In the body, not as a query parameter: the emulator ignores that one.
                ...(w.updateTime ? { currentDocument: { updateTime: w.updateTime } } : {}),
              },
        ),
      }
      await request(
        `${opts.url}/v1/${root}:commit`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        `commit ${writes.length} write${writes.length === 1 ? '' : 's'}`,
        signal,
      )
    },
  }
}

interface RawDocument {
  name: string
  fields?: FirestoreFields
  createTime: string
  updateTime: string
}

function toDocument(d: RawDocument): FirestoreDocument {
  return {
    name: d.name,
    id: d.name.slice(d.name.lastIndexOf('/') + 1),
    fields: decodeFields(d.fields),
    createTime: d.createTime,
    updateTime: d.updateTime,
  }
}
