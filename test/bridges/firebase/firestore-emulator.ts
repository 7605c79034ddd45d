import { waitFor } from '../../helpers/wait.ts'

/** Google's emulator from the Debian package google-cloud-cli-firestore-emulator. */
export const EMULATOR_JAR =
  '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar'

export interface FirestoreEmulator extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`: the REST endpoint (the same port serves gRPC). */
  url: string
  /** A REST client of its own (not the hub's), for setting up and checking documents. */
  docs(projectId: string): EmulatorDocs
  stop(): Promise<void>
}

/** Plain values the helper writes: strings, booleans, whole numbers, arrays and maps of them. */
export type Plain = string | boolean | number | null | Plain[] | { [k: string]: Plain }

export interface StoredDoc {
  name: string
  fields: Record<string, unknown>
  createTime: string
  updateTime: string
}

export interface EmulatorDocs {
  set(collection: string, id: string, data: Record<string, Plain>): Promise<StoredDoc>
  get(collection: string, id: string): Promise<StoredDoc | undefined>
  list(collection: string): Promise<StoredDoc[]>
}

// The emulator cannot tell which port it got with --port 0: ask the kernel for a free one and
// hand it over; another process taking it in between fails the start, which is retried.
async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = server.port
  server.stop(true)
  return port
}

/** Starts the emulator (about 2 s) and waits until it answers; `await using` kills it. */
export async function startFirestoreEmulator(): Promise<FirestoreEmulator> {
  let lastErr: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const proc = Bun.spawn(
      [
        'java',
        '-cp',
        EMULATOR_JAR,
        'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--project_id',
        'demo-hearth',
      ],
      { stdout: 'ignore', stderr: 'ignore' },
    )
    const url = `http://127.0.0.1:${port}`
    const stop = async () => {
      proc.kill()
      await proc.exited
    }
    try {
      await waitFor(
        async () => {
          if (proc.exitCode !== null) throw new Error(`emulator exited with ${proc.exitCode}`)
          const res = await fetch(`${url}/`).catch(() => undefined)
          return res?.status === 200
        },
        { timeoutMs: 30_000, what: 'the Firestore emulator to answer' },
      )
    } catch (err) {
      lastErr = err
      await stop()
      continue
    }
    // The first write costs the JVM seconds of warming up; it is paid here, not inside a test's steps.
    await emulatorDocs(url, 'demo-warm-up').set('warm-up', 'x', { ok: true })
    return { url, docs: (projectId) => emulatorDocs(url, projectId), stop, [Symbol.asyncDispose]: stop }
  }
  throw lastErr
}

function emulatorDocs(url: string, projectId: string): EmulatorDocs {
  const base = `${url}/v1/projects/${projectId}/databases/(default)/documents`
  const headers = { authorization: 'Bearer owner', 'content-type': 'application/json' }
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/${path}`, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    const json = (await res.json()) as Record<string, unknown>
    return { status: res.status, json }
  }
  const toDoc = (d: Record<string, unknown>): StoredDoc => ({
    name: d.name as string,
    fields: decode({ mapValue: { fields: d.fields ?? {} } }) as Record<string, unknown>,
    createTime: d.createTime as string,
    updateTime: d.updateTime as string,
  })
  return {
    async set(collection, id, data) {
      const { status, json } = await call('PATCH', `${collection}/${encodeURIComponent(id)}`, {
        fields: (encode(data) as { mapValue: { fields: unknown } }).mapValue.fields,
      })
      if (status !== 200) throw new Error(`set ${collection}/${id}: ${status} ${JSON.stringify(json)}`)
      return toDoc(json)
    },
    async get(collection, id) {
      const { status, json } = await call('GET', `${collection}/${encodeURIComponent(id)}`)
      if (status === 404) return undefined
      if (status !== 200) throw new Error(`get ${collection}/${id}: ${status}`)
      return toDoc(json)
    },
    async list(collection) {
      const { status, json } = await call('GET', `${collection}?pageSize=1000`)
      if (status !== 200) throw new Error(`list ${collection}: ${status}`)
      return ((json.documents as Array<Record<string, unknown>> | undefined) ?? []).map(toDoc)
    },
  }
}

function encode(v: Plain): unknown {
  if (v === null) return { nullValue: null }
  if (typeof v === 'boolean') return { booleanValue: v }
  if (typeof v === 'number') return { integerValue: String(v) }
  if (typeof v === 'string') return { stringValue: v }
  if (Array.isArray(v)) return { arrayValue: { values: v.map(encode) } }
  return { mapValue: { fields: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)])) } }
}

function decode(v: Record<string, unknown>): unknown {
  if ('nullValue' in v) return null
  if ('booleanValue' in v) return v.booleanValue
  if ('integerValue' in v) return Number(v.integerValue)
  if ('doubleValue' in v) return v.doubleValue
  if ('stringValue' in v) return v.stringValue
  if ('timestampValue' in v) return v.timestampValue
  if ('arrayValue' in v)
    return ((v.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(decode)
  if ('mapValue' in v) {
    const fields = (v.mapValue as { fields?: Record<string, Record<string, unknown>> }).fields ?? {}
    return Object.fromEntries(Object.entries(fields).map(([k, x]) => [k, decode(x)]))
  }
  return undefined
}
