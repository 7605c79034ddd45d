import { brokerPublisher } from '../../../src/actions/publish.ts'
import { createActionRunner } from '../../../src/actions/runner.ts'
import { staticToken } from '../../../src/bridges/firebase/auth.ts'
import { firestoreSchedulesSchema } from '../../../src/bridges/firebase/config.ts'
import { createFirestoreClient } from '../../../src/bridges/firebase/firestore/client.ts'
import { createFirestoreSchedules } from '../../../src/bridges/firebase/firestore/schedules.ts'
import { createFirestoreWrites, FIRESTORE_KIND } from '../../../src/bridges/firebase/firestore/writes.ts'
import { createHealth } from '../../../src/bridges/firebase/health.ts'
import { createBroker } from '../../../src/broker/broker.ts'
import { createBus } from '../../../src/bus/bus.ts'
import { registerCoreActions } from '../../../src/catalog/core-actions.ts'
import { createScheduler } from '../../../src/jobs/scheduler.ts'
import { silentLogger } from '../../../src/log.ts'
import { outboxConfigSchema } from '../../../src/outbox/config.ts'
import { createOutbox } from '../../../src/outbox/outbox.ts'
import type { AnyHubEvent, EventType, HubEvent } from '../../../src/protocol.ts'
import { openStore } from '../../../src/store/open.ts'
import type { ManualClock } from '../../jobs/support.ts'
import type { FirestoreEmulator } from './firestore-emulator.ts'

export const COLLECTION = 'schedule_mode'
export const COMMAND_TOPIC = 'webos/smarthome/info'

export interface SyncFixtureOptions {
  dataDir: string
  clock: ManualClock
  emulator: FirestoreEmulator
  projectId: string
  timezone?: string
}

/**
 * The Firestore schedule sync with its real parts: store on disk, bus, broker, action runner,
 * scheduler on a manual clock, the outbox (started when the test says) and the emulator.
 */
export async function startSyncFixture(o: SyncFixtureOptions) {
  const { db } = openStore(o.dataDir)
  const log = silentLogger()
  const bus = createBus(log, o.clock.now)
  const events: AnyHubEvent[] = []
  bus.onAny('test', (e) => events.push(e))
  const abort = new AbortController()
  const failures: unknown[] = []
  const ctx = { signal: abort.signal, fail: (err: unknown) => failures.push(err) }
  const broker = createBroker({ log })
  await broker.start(ctx)
  const published: string[] = []
  const unsubscribe = broker.subscribe(COMMAND_TOPIC, (packet) => {
    published.push(packet.payload.toString())
    return undefined
  })
  const actions = createActionRunner({ log, bus, now: o.clock.now })
  registerCoreActions(actions, { bus, publish: brokerPublisher(broker), now: o.clock.now })
  const scheduler = createScheduler({
    db,
    bus,
    log,
    actions,
    clock: o.clock,
    timezone: o.timezone ?? 'Asia/Seoul',
  })
  const outbox = createOutbox({
    db,
    bus,
    log,
    config: outboxConfigSchema.parse({ backoffBase: '10ms', backoffMax: '50ms', breakerCooldown: '20ms' }),
    now: o.clock.now,
  })
  const client = createFirestoreClient({
    url: o.emulator.url,
    projectId: o.projectId,
    database: '(default)',
    tokens: staticToken('owner'),
    timeoutMs: 5000,
  })
  const schedules = createFirestoreSchedules({
    collection: COLLECTION,
    // Passes are asked for by the test; the timer's own come an hour apart.
    config: firestoreSchedulesSchema.parse({ collection: COLLECTION, pollInterval: '1h' }),
    client,
    scheduler,
    outbox,
    db,
    bus,
    log,
    health: createHealth(bus, 'firestore'),
    now: o.clock.now,
  })
  const writes = createFirestoreWrites({
    client,
    outbox,
    onDelete: (d, r, why) => schedules.deleted(d, r, why),
  })
  outbox.register(FIRESTORE_KIND, writes.handler)
  actions.register('firestore', writes.executor)
  await scheduler.start(ctx)
  await schedules.start(ctx)

  let outboxStarted = false
  let stopped = false
  const stop = async () => {
    if (stopped) return
    stopped = true
    await schedules.stop()
    await outbox.stop()
    await scheduler.stop()
    unsubscribe()
    await broker.stop()
    abort.abort()
    db.close()
  }
  return {
    db,
    bus,
    scheduler,
    schedules,
    outbox,
    actions,
    client,
    failures,
    events,
    /** Payloads published on the command topic, in order. */
    published,
    startOutbox() {
      if (outboxStarted) return
      outboxStarted = true
      void outbox.start(ctx)
    },
    of<K extends EventType>(type: K): HubEvent<K>[] {
      return events.filter((e) => e.type === type) as unknown as HubEvent<K>[]
    },
    stop,
    [Symbol.asyncDispose]: stop,
  }
}

/** Source (a)'s schedule_mode fields, appliance settings filled in (the command 312145610). */
export function scheduleDoc(over: Record<string, unknown>) {
  return {
    title: 'schedule',
    enabled: true,
    modeNum: 3,
    airconEnable: true,
    airconWindPower: 2,
    lightEnable: true,
    lightBrightness: 4,
    lightColor: 5,
    lightMode: 6,
    windowOpen: true,
    gasValveEnable: false,
    ...over,
  } as Record<string, import('./firestore-emulator.ts').Plain>
}
