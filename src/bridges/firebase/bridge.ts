import type { Database } from 'bun:sqlite'
import { brokerPublisher } from '../../actions/publish.ts'
import type { ActionExecutor } from '../../actions/runner.ts'
import type { Broker } from '../../broker/broker.ts'
import type { Bus } from '../../bus/bus.ts'
import type { Logger } from '../../log.ts'
import type { Outbox } from '../../outbox/outbox.ts'
import type { ServiceEntry } from '../../runtime/service.ts'
import { serviceAccountSchema, serviceAccountTokens, staticToken, type TokenSource } from './auth.ts'
import type { FirebaseConfig } from './config.ts'
import type { FirestoreAction } from './firestore/action-schema.ts'
import { createFirestoreClient } from './firestore/client.ts'
import {
  createFirestoreSchedules,
  type FirestoreSchedules,
  type ScheduleTable,
} from './firestore/schedules.ts'
import { createFirestoreWrites, FIRESTORE_KIND } from './firestore/writes.ts'
import { createHealth, type FirebasePart, type Health, type HealthSnapshot } from './health.ts'
import { FirebaseFailure } from './http.ts'
import { createRtdbClient } from './rtdb/client.ts'
import { createRtdbListener } from './rtdb/listen.ts'
import { createLocalTree, type LocalTree } from './rtdb/local-tree.ts'
import { createRtdbMirror } from './rtdb/mirror.ts'

interface FirebaseBridgeOptions {
  config: FirebaseConfig
  db: Database
  bus: Bus
  log: Logger
  broker: Broker
  outbox: Outbox
  scheduler: ScheduleTable
  fetch?: typeof fetch
  now?: () => number
}

/** The Firebase parts of the hub: the Realtime Database mirror and listeners, Firestore schedules. */
export interface FirebaseBridge {
  /** Runtime entries, all supervised: after the outbox and the scheduler, before the HTTP server. */
  services: ServiceEntry[]
  tree: LocalTree
  schedules: FirestoreSchedules | undefined
  /** What each part built from the config last saw of Firebase; parts not configured are absent. */
  health(): Partial<Record<FirebasePart, HealthSnapshot>>
  /** Per part that has tried: 1 when it last reached Firebase, 0 when it failed. */
  up(): Partial<Record<FirebasePart, number>>
  /** Whether Firestore (the `firestore` action and schedules) has a project to talk to. */
  readonly firestore: boolean
  /** Carries out the `firestore` action; without a project it fails saying what is missing. */
  executor: ActionExecutor<FirestoreAction>
}

/**
 * The Realtime Database mirror and listeners, Firestore schedules and the `firestore` action.
 * Building does no I/O; parts whose config is missing (no `rtdb.url`, no `schedules.collection`)
 * are left out.
 */
export function createFirebaseBridge(opts: FirebaseBridgeOptions): FirebaseBridge {
  const { config, db, bus, broker, outbox } = opts
  const log = opts.log.child('firebase')
  const now = opts.now ?? Date.now
  const timeoutMs = config.timeout
  const fetchFn = opts.fetch ?? fetch
  const account = config.serviceAccount
    ? serviceAccountSchema.parse(JSON.parse(config.serviceAccount))
    : undefined
  const oauth = account ? serviceAccountTokens({ account, timeoutMs, fetch: fetchFn, now }) : undefined
  const projectId = config.projectId ?? account?.project_id
  const health = new Map<FirebasePart, Health>()
  const healthOf = (part: FirebasePart) => {
    const known = health.get(part)
    if (known) return known
    const h = createHealth(bus, part, now)
    health.set(part, h)
    return h
  }
  const tree = createLocalTree(db, now)
  const services: ServiceEntry[] = []

  const rtdb = config.rtdb
  if (rtdb.url) {
    const auth = rtdb.secret
      ? { param: 'auth' as const, tokens: staticToken(rtdb.secret) }
      : oauth
        ? { param: 'access_token' as const, tokens: oauth }
        : undefined
    const client = createRtdbClient({ url: rtdb.url, timeoutMs, fetch: fetchFn, ...(auth ? { auth } : {}) })
    const mirror = createRtdbMirror({
      url: rtdb.url,
      mappings: rtdb.mirror,
      client,
      tree,
      outbox,
      broker,
      bus,
      log,
      health: healthOf('rtdb'),
    })
    services.push({ service: mirror, restart: true })
    const publish = brokerPublisher(broker)
    for (const listen of rtdb.listen) {
      const listener = createRtdbListener({
        listen,
        client,
        tree,
        bus,
        log,
        publish,
        health: healthOf('rtdb-stream'),
        idleTimeoutMs: rtdb.idleTimeout,
      })
      services.push({ service: listener, restart: true })
    }
  }

  // The emulator takes "owner" as an admin token; production needs the service account.
  const firestoreTokens: TokenSource = config.firestore.emulator
    ? staticToken('owner')
    : (oauth ?? {
        token: () =>
          Promise.reject(
            new FirebaseFailure(
              'bad-request',
              'Firestore needs firebase.serviceAccount (or firestore.emulator)',
            ),
          ),
      })
  const firestore = projectId
    ? createFirestoreClient({
        url: config.firestore.url,
        projectId,
        database: config.firestore.database,
        tokens: firestoreTokens,
        timeoutMs,
        fetch: fetchFn,
      })
    : undefined

  const collection = config.firestore.schedules.collection
  const schedules =
    firestore && collection
      ? createFirestoreSchedules({
          collection,
          config: config.firestore.schedules,
          client: firestore,
          scheduler: opts.scheduler,
          outbox,
          db,
          bus,
          log,
          health: healthOf('firestore'),
          now,
        })
      : undefined
  if (schedules) services.push({ service: schedules, restart: true })

  let executor: ActionExecutor<FirestoreAction> = () => {
    throw new Error('Firestore is not configured: set firebase.projectId or a service account')
  }
  if (firestore) {
    const writes = createFirestoreWrites({
      client: firestore,
      outbox,
      onDelete: (d, result, reason) => schedules?.deleted(d, result, reason),
    })
    outbox.register(FIRESTORE_KIND, writes.handler)
    executor = writes.executor
  }

  return {
    services,
    tree,
    schedules,
    health: () => Object.fromEntries([...health].map(([part, h]) => [part, h.snapshot()])),
    up: () =>
      Object.fromEntries(
        [...health].flatMap(([part, h]) => {
          const value = h.value()
          return value === undefined ? [] : [[part, value]]
        }),
      ),
    firestore: firestore !== undefined,
    executor,
  }
}
