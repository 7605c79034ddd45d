import { createFirebaseBridge, type FirebaseBridge } from '../bridges/firebase/bridge.ts'
import type { Broker } from '../broker/broker.ts'
import type { RequireAuth } from '../http/auth/middleware.ts'
import type { Metrics } from '../http/metrics.ts'
import { createFirebaseRoutes } from '../http/routes/firebase.ts'
import type { Scheduler } from '../jobs/scheduler.ts'
import type { Outbox } from '../outbox/outbox.ts'
import type { HubBasics, HubModule } from './module.ts'

interface FirebaseModule extends HubModule {
  firebase: FirebaseBridge
}

interface FirebaseDeps extends HubBasics {
  requireAuth: RequireAuth
  metrics: Metrics
  broker: Broker
  outbox: Outbox
  scheduler: Scheduler
}

/** The RTDB mirror and listeners, Firestore schedules and the `firestore` action. */
export function composeFirebase(deps: FirebaseDeps): FirebaseModule {
  const { config, db, bus, log, now, requireAuth, metrics, broker, outbox, scheduler } = deps
  const firebase = createFirebaseBridge({
    config: config.firebase,
    db,
    bus,
    log,
    broker,
    outbox,
    scheduler,
    now,
  })
  metrics.collect(
    'hearth_firebase_up',
    'whether each Firebase part last reached Firebase (1) or failed (0); a part that has not tried yet has no sample',
    'gauge',
    () => Object.entries(firebase.up()).map(([part, value]) => ({ labels: { part }, value })),
  )
  const { tree, schedules } = firebase
  return {
    name: 'firebase',
    firebase,
    services: firebase.services,
    api: [{ path: '/firebase', router: createFirebaseRoutes({ tree, schedules, requireAuth }) }],
    actions: { firestore: firebase.executor },
  }
}
