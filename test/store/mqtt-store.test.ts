import type { Database } from 'bun:sqlite'
import { describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { topicMatches } from '../../src/broker/topic-filter.ts'
import { silentLogger } from '../../src/log.ts'
import type { Message, QoS, QueuedMessage, StoredSession, StoreOp, Will } from '../../src/mqtt/types.ts'
import { migrate } from '../../src/store/migrate.ts'
import { createSqliteEngineStore, type SqliteEngineStore } from '../../src/store/mqtt/sqlite-store.ts'
import { DB_FILE, openDatabase } from '../../src/store/open.ts'
import { tempDir } from '../helpers/hub.ts'

// The broker store against real SQLite files. The cases are those of the upstream
// aedes-persistence suite that still mean something for an op-log store (the engine keeps the
// state in memory and only writes operations and loads once), plus the store's own promises:
// one transaction per batch, and reopening the file gives back what was written.
// Left with Aedes: lookups by topic, client lists and counts (the engine's in-memory trie answers
// them), streaming (load() reads everything once), wills per broker id (a will of a session that
// was connected at a crash is in load(); the engine publishes it).

const log = silentLogger()

interface Opened extends Disposable {
  db: Database
  store: SqliteEngineStore
  /** Closes the connection and opens the file again, as a restarted hub does. */
  reopen(): SqliteEngineStore
  count(table: string): number
}

function openStoreFile(): Opened {
  const dir = tempDir('hearth-store-')
  const path = join(dir.path, DB_FILE)
  const open = () => {
    const db = openDatabase(path)
    migrate(db)
    return db
  }
  const opened: Opened = {
    db: open(),
    store: undefined as unknown as SqliteEngineStore,
    reopen() {
      opened.db.close()
      opened.db = open()
      opened.store = createSqliteEngineStore({ db: opened.db, log })
      return opened.store
    },
    count: (table) => (opened.db.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n,
    [Symbol.dispose]() {
      opened.db.close()
      dir[Symbol.dispose]()
    },
  }
  opened.store = createSqliteEngineStore({ db: opened.db, log })
  return opened
}

const msg = (
  topic: string,
  payload: string | Buffer,
  qos: QoS = 1,
  extra: Partial<Message> = {},
): Message => ({
  topic,
  payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
  qos,
  retain: false,
  ...extra,
})
const retained = (topic: string, payload: string | Buffer, qos: QoS = 0) =>
  msg(topic, payload, qos, { retain: true })
const retain = (message: Message): StoreOp => ({ op: 'retain', topic: message.topic, message })
const session = (clientId: string, extra: Partial<Extract<StoreOp, { op: 'session' }>> = {}): StoreOp => ({
  op: 'session',
  clientId,
  owner: `device ${clientId}`,
  protocolLevel: 5,
  expiryInterval: 3600,
  disconnectedAt: undefined,
  ...extra,
})
const enqueue = (clientId: string, item: QueuedMessage): StoreOp => ({ op: 'enqueue', clientId, item })
const emptySession = (clientId: string, extra: Partial<StoredSession> = {}): StoredSession => ({
  clientId,
  owner: `device ${clientId}`,
  protocolLevel: 5,
  expiryInterval: 3600,
  disconnectedAt: undefined,
  subscriptions: [],
  queue: [],
  incomingQos2: [],
  will: undefined,
  ...extra,
})
const sessionOf = (store: SqliteEngineStore, clientId: string) =>
  store.load().sessions.find((s) => s.clientId === clientId)

/** A message with every MQTT 5 property, user properties repeated and out of name order. */
const V5 = msg('v5/topic', Buffer.from([0, 255, 1]), 2, {
  retain: true,
  properties: {
    payloadFormatIndicator: 0,
    contentType: 'application/octet-stream',
    responseTopic: 'v5/reply',
    correlationData: Buffer.from([9, 8, 7]),
    userProperties: [
      ['z', '1'],
      ['a', '2'],
      ['z', '3'],
    ],
  },
  expiresAt: Date.UTC(2030, 0, 1),
})

describe('the broker store: retained messages', () => {
  it('stores a retained message and loads it back byte for byte, MQTT 5 properties and expiry included', () => {
    using s = openStoreFile()
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
    const first = retained('hello/world', binary, 1)
    s.store.write([retain(first), retain(V5)])
    // The store keeps its own copy: the engine may reuse the buffer it passed.
    binary.fill(0)
    expect(s.store.load().retained).toEqual([
      retained('hello/world', Buffer.from(Array.from({ length: 256 }, (_, i) => i)), 1),
      V5,
    ])
  })

  it('keeps only the last message stored on a topic, in the order topics were first retained', () => {
    using s = openStoreFile()
    s.store.write([retain(retained('a', '1')), retain(retained('b', '2'))])
    s.store.write([retain(retained('a', 'one', 1))])
    expect(s.store.load().retained).toEqual([retained('a', 'one', 1), retained('b', '2')])
  })

  it('removes a retained message on an empty payload or when the op carries none [MQTT-3.3.1-10]', () => {
    using s = openStoreFile()
    s.store.write([retain(retained('a', '1')), retain(retained('b', '2')), retain(retained('c', '3'))])
    s.store.write([
      retain(retained('a', '')),
      { op: 'retain', topic: 'b', message: undefined },
      { op: 'retain', topic: 'never-stored', message: undefined },
    ])
    expect(s.store.load().retained).toEqual([retained('c', '3')])
    expect(s.count('broker_retained')).toBe(1)
  })

  it('keeps every topic as written, $-topics included, so lookups by filter find what the upstream suite expects', () => {
    using s = openStoreFile()
    const topics = [
      'hello/world',
      'hello/world/other',
      'hello/there',
      'hello',
      'hello/world/a/b',
      'other/world',
      '$SYS/broker/uptime',
      '/leading/slash',
    ]
    s.store.write(topics.map((t) => retain(retained(t, t))))
    const loaded = s.reopen().load().retained
    const matching = (filter: string) =>
      loaded.filter((m) => topicMatches(filter, m.topic)).map((m) => m.topic)
    expect({
      '#': matching('#'),
      'hello/world/#': matching('hello/world/#'),
      'hello/+': matching('hello/+'),
      '+/world': matching('+/world'),
      '+/#': matching('+/#'),
      'hello/+/other': matching('hello/+/other'),
      '$SYS/#': matching('$SYS/#'),
      '+/broker/uptime': matching('+/broker/uptime'),
    }).toEqual({
      // [MQTT-4.7.2-1] a filter starting with a wildcard never matches a $-topic.
      '#': topics.filter((t) => !t.startsWith('$')),
      'hello/world/#': ['hello/world', 'hello/world/other', 'hello/world/a/b'],
      'hello/+': ['hello/world', 'hello/there'],
      '+/world': ['hello/world', 'other/world'],
      '+/#': topics.filter((t) => !t.startsWith('$')),
      'hello/+/other': ['hello/world/other'],
      '$SYS/#': ['$SYS/broker/uptime'],
      '+/broker/uptime': [],
    })
    expect(loaded.map((m) => m.payload.toString())).toEqual(topics)
  })
})

describe('the broker store: sessions and subscriptions', () => {
  it('stores a session and updates it in place without losing its subscriptions or queue', () => {
    using s = openStoreFile()
    s.store.write([
      session('c1'),
      { op: 'subscribe', clientId: 'c1', subscription: { filter: 'a/#', qos: 1 } },
      enqueue('c1', { seq: 1, message: msg('a/1', 'x') }),
    ])
    s.store.write([
      session('c1', {
        owner: 'device other',
        protocolLevel: 4,
        expiryInterval: 0xffffffff,
        disconnectedAt: 1234,
      }),
    ])
    expect(s.store.load().sessions).toEqual([
      emptySession('c1', {
        owner: 'device other',
        protocolLevel: 4,
        expiryInterval: 0xffffffff,
        disconnectedAt: 1234,
        subscriptions: [{ filter: 'a/#', qos: 1 }],
        queue: [{ seq: 1, message: msg('a/1', 'x') }],
      }),
    ])
  })

  it('keeps a session without an owner (an anonymous client)', () => {
    using s = openStoreFile()
    s.store.write([session('anon', { owner: undefined })])
    expect(sessionOf(s.store, 'anon')).toEqual(emptySession('anon', { owner: undefined }))
  })

  it('stores subscriptions at QoS 0, 1 and 2 with their MQTT 5 options, in subscription order', () => {
    using s = openStoreFile()
    const subs = [
      { filter: 'hello', qos: 1 as const },
      { filter: 'hello/#', qos: 0 as const },
      {
        filter: 'matteo',
        qos: 2 as const,
        noLocal: true,
        retainAsPublished: false,
        retainHandling: 2 as const,
      },
      { filter: '$share/g/sensors/+', qos: 1 as const, identifier: 268435455 },
    ]
    s.store.write([
      session('c1'),
      ...subs.map((subscription) => ({ op: 'subscribe' as const, clientId: 'c1', subscription })),
    ])
    expect(sessionOf(s.reopen(), 'c1')?.subscriptions).toEqual(subs)
  })

  it('replaces a subscription to the same filter (same topic, different QoS) and keeps its place', () => {
    using s = openStoreFile()
    s.store.write([
      session('c1'),
      { op: 'subscribe', clientId: 'c1', subscription: { filter: 'a', qos: 1, identifier: 1 } },
      { op: 'subscribe', clientId: 'c1', subscription: { filter: 'b', qos: 1 } },
    ])
    // Replaced in the same batch and in a later one.
    s.store.write([
      { op: 'subscribe', clientId: 'c1', subscription: { filter: 'b', qos: 0 } },
      { op: 'subscribe', clientId: 'c1', subscription: { filter: 'b', qos: 2 } },
    ])
    s.store.write([{ op: 'subscribe', clientId: 'c1', subscription: { filter: 'a', qos: 0 } }])
    expect(sessionOf(s.store, 'c1')?.subscriptions).toEqual([
      { filter: 'a', qos: 0 },
      { filter: 'b', qos: 2 },
    ])
  })

  it('removes subscriptions by filter, of that session only, and ignores a filter it does not have', () => {
    using s = openStoreFile()
    const sub = (clientId: string, filter: string): StoreOp => ({
      op: 'subscribe',
      clientId,
      subscription: { filter, qos: 1 },
    })
    s.store.write([session('c1'), session('c2'), sub('c1', 'a'), sub('c1', 'b'), sub('c2', 'a')])
    s.store.write([
      { op: 'unsubscribe', clientId: 'c1', filter: 'a' },
      { op: 'unsubscribe', clientId: 'c1', filter: 'not/subscribed' },
    ])
    const { sessions } = s.reopen().load()
    expect(sessions.map((x) => [x.clientId, x.subscriptions.map((y) => y.filter)])).toEqual([
      ['c1', ['b']],
      ['c2', ['a']],
    ])
  })

  it('deletes a session with everything it owns: subscriptions, queue, incoming QoS 2 ids and will', () => {
    using s = openStoreFile()
    const will: Will = { message: msg('c1/will', 'gone'), delayInterval: 5 }
    const full = (clientId: string): StoreOp[] => [
      session(clientId),
      { op: 'subscribe', clientId, subscription: { filter: 'a', qos: 1 } },
      enqueue(clientId, { seq: 1, message: msg('a', 'queued') }),
      { op: 'incoming', clientId, packetId: 7 },
      { op: 'will', clientId, will },
    ]
    s.store.write([...full('c1'), ...full('c2')])
    s.store.write([
      { op: 'session-delete', clientId: 'c1' },
      { op: 'session-delete', clientId: 'never-existed' },
    ])
    expect(s.store.load().sessions.map((x) => x.clientId)).toEqual(['c2'])
    for (const table of [
      'broker_sessions',
      'broker_subscriptions',
      'broker_queue',
      'broker_incoming',
      'broker_wills',
    ])
      expect([table, s.count(table)]).toEqual([table, 1])
  })
})

describe('the broker store: queued and in-flight messages', () => {
  it('loads each session’s queue in seq order, whatever order the items were written in', () => {
    using s = openStoreFile()
    s.store.write([
      session('c1'),
      session('c2'),
      enqueue('c1', { seq: 3, message: msg('t', 'c1-3') }),
      enqueue('c2', { seq: 1, message: msg('t', 'c2-1') }),
      enqueue('c1', { seq: 1, message: msg('t', 'c1-1') }),
    ])
    s.store.write([
      enqueue('c1', { seq: 2, message: msg('t', 'c1-2') }),
      enqueue('c1', { seq: 10, message: msg('t', 'c1-10') }),
    ])
    const { sessions } = s.reopen().load()
    expect(sessions.map((x) => [x.clientId, x.queue.map((q) => q.message.payload.toString())])).toEqual([
      ['c1', ['c1-1', 'c1-2', 'c1-3', 'c1-10']],
      ['c2', ['c2-1']],
    ])
  })

  it('queues one message for several sessions, each with its own copy', () => {
    using s = openStoreFile()
    const m = msg('fan/out', 'to all', 2)
    s.store.write([session('a'), session('b'), session('c')])
    s.store.write(['a', 'b', 'c'].map((id) => enqueue(id, { seq: 1, message: m })))
    s.store.write([{ op: 'dequeue', clientId: 'b', seq: 1 }])
    expect(s.store.load().sessions.map((x) => [x.clientId, x.queue])).toEqual([
      ['a', [{ seq: 1, message: m }]],
      ['b', []],
      ['c', [{ seq: 1, message: m }]],
    ])
  })

  it('keeps subscription identifiers, properties, expiry and a state given at enqueue', () => {
    using s = openStoreFile()
    const items: QueuedMessage[] = [
      { seq: 1, message: V5, subscriptionIds: [3, 1], state: 'queued' },
      { seq: 2, message: msg('t', 'in flight at once'), packetId: 12, state: 'sent' },
    ]
    s.store.write([session('c1'), ...items.map((item) => enqueue('c1', item))])
    expect(sessionOf(s.reopen(), 'c1')?.queue).toEqual(items)
  })

  it('records a delivery’s packet id and QoS flow (sent, then released), and removes the message once acknowledged', () => {
    using s = openStoreFile()
    s.store.write([
      session('c1'),
      enqueue('c1', { seq: 1, message: msg('q1', 'one', 1) }),
      enqueue('c1', { seq: 2, message: msg('q2', 'two', 2) }),
      enqueue('c1', { seq: 3, message: msg('q3', 'three', 1) }),
    ])
    s.store.write([
      { op: 'outgoing', clientId: 'c1', seq: 1, packetId: 1, state: 'sent' },
      { op: 'outgoing', clientId: 'c1', seq: 2, packetId: 2, state: 'sent' },
    ])
    // PUBACK for 1, PUBREC for 2 (PUBREL sent).
    s.store.write([
      { op: 'dequeue', clientId: 'c1', seq: 1 },
      { op: 'outgoing', clientId: 'c1', seq: 2, packetId: 2, state: 'released' },
    ])
    expect(sessionOf(s.reopen(), 'c1')?.queue).toEqual([
      { seq: 2, message: msg('q2', 'two', 2), packetId: 2, state: 'released' },
      { seq: 3, message: msg('q3', 'three', 1) },
    ])
    // PUBCOMP for 2.
    s.store.write([{ op: 'dequeue', clientId: 'c1', seq: 2 }])
    expect(sessionOf(s.store, 'c1')?.queue.map((q) => q.seq)).toEqual([3])
  })

  it('ignores an acknowledgement or update for a message it does not hold', () => {
    using s = openStoreFile()
    s.store.write([session('c1'), enqueue('c1', { seq: 1, message: msg('t', 'x') })])
    s.store.write([
      { op: 'dequeue', clientId: 'c1', seq: 99 },
      { op: 'outgoing', clientId: 'c1', seq: 99, packetId: 5, state: 'sent' },
      { op: 'dequeue', clientId: 'nobody', seq: 1 },
    ])
    expect(sessionOf(s.store, 'c1')?.queue).toEqual([{ seq: 1, message: msg('t', 'x') }])
  })
})

describe('the broker store: incoming QoS 2 and wills', () => {
  it('adds an incoming QoS 2 packet id once and releases it on PUBREL [MQTT-4.3.3-10]', () => {
    using s = openStoreFile()
    s.store.write([
      session('c1'),
      { op: 'incoming', clientId: 'c1', packetId: 42 },
      { op: 'incoming', clientId: 'c1', packetId: 7 },
    ])
    // A retransmitted PUBLISH (DUP) records the same id again.
    s.store.write([{ op: 'incoming', clientId: 'c1', packetId: 42 }])
    expect(sessionOf(s.reopen(), 'c1')?.incomingQos2).toEqual([7, 42])
    s.store.write([
      { op: 'incoming-release', clientId: 'c1', packetId: 42 },
      { op: 'incoming-release', clientId: 'c1', packetId: 1000 },
    ])
    expect(sessionOf(s.store, 'c1')?.incomingQos2).toEqual([7])
  })

  it('stores, replaces and removes a session’s will', () => {
    using s = openStoreFile()
    const will: Will = { message: { ...V5, topic: 'c1/status' }, delayInterval: 30 }
    s.store.write([session('c1'), { op: 'will', clientId: 'c1', will }])
    expect(sessionOf(s.reopen(), 'c1')?.will).toEqual(will)
    const other: Will = { message: msg('c1/status', 'offline', 1, { retain: true }), delayInterval: 0 }
    s.store.write([{ op: 'will', clientId: 'c1', will: other }])
    expect(sessionOf(s.store, 'c1')?.will).toEqual(other)
    s.store.write([{ op: 'will', clientId: 'c1', will: undefined }])
    expect(sessionOf(s.store, 'c1')?.will).toBeUndefined()
    expect(s.count('broker_wills')).toBe(0)
  })
})

describe('the broker store: durability', () => {
  it('loads, after the file is closed and opened again, exactly what was written', () => {
    using s = openStoreFile()
    const will: Will = { message: msg('b/status', 'lost', 1, { retain: true }), delayInterval: 10 }
    s.store.write([
      retain(retained('r/1', 'one', 1)),
      retain(V5),
      session('a', { expiryInterval: 0xffffffff, disconnectedAt: 1_700_000_000_000 }),
      session('b', { owner: undefined, protocolLevel: 3, expiryInterval: 0 }),
      { op: 'subscribe', clientId: 'a', subscription: { filter: 'x/+', qos: 2, identifier: 4 } },
      { op: 'subscribe', clientId: 'b', subscription: { filter: '#', qos: 0 } },
      enqueue('a', { seq: 1, message: msg('x/1', 'first', 2), subscriptionIds: [4] }),
      enqueue('a', { seq: 2, message: V5 }),
      { op: 'outgoing', clientId: 'a', seq: 1, packetId: 9, state: 'sent' },
      { op: 'incoming', clientId: 'a', packetId: 3 },
      { op: 'will', clientId: 'b', will },
    ])
    const before = s.store.load()
    expect(before).toEqual({
      retained: [retained('r/1', 'one', 1), V5],
      sessions: [
        emptySession('a', {
          expiryInterval: 0xffffffff,
          disconnectedAt: 1_700_000_000_000,
          subscriptions: [{ filter: 'x/+', qos: 2, identifier: 4 }],
          queue: [
            { seq: 1, message: msg('x/1', 'first', 2), subscriptionIds: [4], packetId: 9, state: 'sent' },
            { seq: 2, message: V5 },
          ],
          incomingQos2: [3],
        }),
        emptySession('b', {
          owner: undefined,
          protocolLevel: 3,
          expiryInterval: 0,
          subscriptions: [{ filter: '#', qos: 0 }],
          will,
        }),
      ],
    })
    expect(s.reopen().load()).toEqual(before)
  })

  it('writes nothing of a batch in which one op fails, and throws; earlier batches stay', () => {
    using s = openStoreFile()
    s.store.write([session('c1'), enqueue('c1', { seq: 1, message: msg('t', 'kept') })])
    const before = s.store.load()
    const failing: StoreOp[][] = [
      // A queue item for a session that was never written (foreign key).
      [
        retain(retained('r', 'x')),
        enqueue('c1', { seq: 2, message: msg('t', 'lost') }),
        { op: 'dequeue', clientId: 'c1', seq: 1 },
        enqueue('ghost', { seq: 1, message: msg('t', 'x') }),
      ],
      // A seq the session already has.
      [
        session('c2'),
        { op: 'incoming', clientId: 'c1', packetId: 5 },
        enqueue('c1', { seq: 1, message: msg('t', 'twice') }),
      ],
    ]
    for (const batch of failing) expect(() => s.store.write(batch)).toThrow()
    expect(s.store.load()).toEqual(before)
    expect(s.reopen().load()).toEqual(before)
    // The store is still usable after a failed batch.
    s.store.write([enqueue('c1', { seq: 2, message: msg('t', 'after') })])
    expect(sessionOf(s.store, 'c1')?.queue.map((q) => q.seq)).toEqual([1, 2])
  })

  it('keeps every batch whole when the process is killed while writing', async () => {
    using s = openStoreFile()
    s.store.write([session('c')])
    const child = Bun.spawn(
      [process.execPath, join(import.meta.dir, 'mqtt-store-writer.ts'), s.db.filename],
      {
        stdout: 'pipe',
        stderr: 'inherit',
      },
    )
    // Killed once it reported a number of committed batches: a point in the work, not a time.
    let committed = -1
    let buffered = ''
    const decoder = new TextDecoder()
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk)
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      if (lines.length > 0) committed = Number(lines.at(-1))
      // Killed while it is still writing, before its output is closed.
      if (committed >= 100) {
        child.kill('SIGKILL')
        break
      }
    }
    await child.exited
    expect(committed).toBeGreaterThanOrEqual(100)

    const state = s.reopen().load()
    const batches = state.retained.length
    // Every reported batch is there, and every batch there is whole: two queue items per retained topic.
    expect(batches).toBeGreaterThan(committed)
    expect(state.retained.map((m) => m.topic)).toEqual(Array.from({ length: batches }, (_, i) => `r/${i}`))
    expect(state.sessions[0]?.queue.map((q) => q.seq)).toEqual(
      Array.from({ length: 2 * batches }, (_, i) => i),
    )
  })
})
