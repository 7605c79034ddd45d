import type {
  DeviceUpstream,
  GroupAddResult,
  GroupCreateResult,
  GroupDeleteResult,
  GroupSubtractResult,
  JsonObject,
  MessageProgress,
  PushPlatform,
  SendResult,
} from './payloads.ts'

/**
 * The events of the hub: what travels on the bus, is stored in the event log and reaches the
 * console. A bottom-layer module, so every domain folder can name its events without importing
 * the wire contract of `http/` and `web/`. A device is `device` in every payload (the five source
 * systems' MQTT payloads keep their own names).
 */

/** Detail of every event type on the bus, by type. */
export interface EventMap {
  'hub.started': { version: string; mqttPort: number; httpPort: number }
  'hub.stopping': { signal: string }
  'service.failed': { service: string; error: string; attempt: number; retryInMs: number }
  'service.restarted': { service: string; attempt: number }
  'store.corrupt': { movedTo: string; reason: string }
  alert: { source: string; message: string; severity: 'info' | 'warning' | 'critical' }
  // SIGHUP or `hearth reload`: changed key paths applied live, and those that wait for a restart.
  'config.reloaded': { applied: string[]; needsRestart: string[] }
  // Devices and the broker's auth, ACL and presence; subject = device id.
  'device.created': { device: string; name: string }
  'device.renamed': { device: string; name: string }
  'device.removed': { device: string }
  'device.rotated': { device: string }
  /** A disabled device is refused (CONNACK 5) and its live connections end; enabled, it may connect again. */
  'device.enabled': { device: string }
  'device.disabled': { device: string }
  'device.online': { device: string; clientId: string; address: string | null }
  'device.offline': { device: string; clientId: string | null; reason: DeviceOfflineReason }
  'auth.failed': { address: string; username: string | null; clientId: string; reason: AuthFailure }
  /** A persistent session's queue is full: new messages for it are dropped until it drains. */
  'mqtt.queue_overflow': { clientId: string; dropped: number }
  'acl.denied': {
    device: string | null
    clientId: string
    action: 'publish' | 'subscribe'
    topic: string
    disconnected: boolean
    /** Present on a summary: this many denials of the client in one window, `topic` the last one. */
    count?: number
  }
  // People and API tokens; subject = username or token id.
  'auth.login': { username: string; address: string }
  'auth.login_failed': { username: string; address: string; reason: 'bad_credentials' | 'throttled' }
  /** A failed login started or lengthened a back-off: `retryAfter` seconds for that scope. */
  'auth.lockout': {
    username: string
    address: string
    scope: 'user+address' | 'address'
    failures: number
    retryAfter: number
  }
  'auth.logout': { username: string }
  'user.created': { username: string; role: string }
  'user.updated': { username: string; role: string; passwordChanged: boolean }
  'user.removed': { username: string }
  'token.created': { id: string; name: string; scope: 'read' | 'write' | 'admin'; createdBy: string | null }
  'token.revoked': { id: string }
  // Actions, schedules and pollers; subject = the source (`schedule:<id>`) or schedule id.
  'action.event': { source: string; message: string; level: 'info' | 'warning' | 'critical' }
  'action.failed': { source: string; type: string; error: string }
  'schedule.created': { id: string; origin: 'api' | 'config' }
  'schedule.updated': { id: string; origin: 'api' | 'config' }
  'schedule.removed': { id: string; reason: 'api' | 'one-shot done' | 'config' }
  'schedule.run': {
    id: string
    runId: number
    scheduledAt: number
    /** Caught up after downtime rather than fired on time. */
    late: boolean
    status: 'ok' | 'failed'
    ms: number
    actions: Array<{ type: string; ok: boolean; error?: string }>
  }
  'schedule.skipped': { id: string; scheduledAt: number; reason: 'overlap' | 'missed'; count: number }
  /** A reading from a poller (and any other producer) for the telemetry store; subject = device. */
  'telemetry.reading': { device: string; metric: string; value: number; ts: number; source: string }
  /** A sensor's POST /ingest/:device once its readings are stored, with the whole parsed body. */
  'ingest.received': { device: string; body: unknown; stored: number; ignored: string[] }
  // Inbound webhooks; subject = hook name.
  'hook.received': {
    hook: string
    topic: string
    bytes: number
    deliveryId: string | null
    replayOf?: number
  }
  /** The verified body of an accepted delivery (parsed JSON, or the text), for rules; not stored. */
  'hook.body': { hook: string; body: unknown }
  'hook.rejected': { hook: string; code: number; reason: string }
  // The outbox; subject = `<kind>:<target>`.
  'delivery.succeeded': { id: number; kind: string; target: string; key: string; attempts: number }
  'delivery.failed': {
    id: number
    kind: string
    target: string
    attempt: number
    error: string
    status: number | null
    /** Null when this failure made it a dead letter. */
    retryInMs: number | null
  }
  'delivery.dead': { id: number; kind: string; target: string; key: string; attempts: number; reason: string }
  'outbox.circuit': { kind: string; target: string; state: 'open' | 'closed' }
  // FCM push; subject = the push target (`all`, `label:<l>`, …) or a token id.
  'push.token_registered': {
    id: string
    platform: PushPlatform
    device: string | null
    user: string | null
    labels: string[]
    created: boolean
  }
  'push.token_removed': { id: string; reason: 'api' | 'unregistered' | 'invalid' }
  /** One token's result of one attempt (not stored: one per token). */
  'push.result': {
    target: string
    batch: string
    /** The token's id (a hash), never the token. */
    token: string
    platform: PushPlatform | null
    status: 'sent' | 'retry' | 'dead' | 'failed' | 'skipped'
    messageId?: string
    error?: string
    errorCode?: string
  }
  /** A batch (at most 500 tokens) has a final result for every token. */
  'push.batch': {
    target: string
    batch: string
    source: string
    size: number
    sent: number
    dead: number
    failed: number
    skipped: number
    pruned: number
    attempts: number
  }
  'push.paused': { target: string; batch: string; size: number; dead: number; reason: string }
  'push.resumed': { target: string }
  // Slack; subject = the destination's name.
  'slack.sent': { destination: string; alerts: number }
  /** Slack said the destination is gone (403/404/410, channel_not_found …); nothing more is sent to it. */
  'slack.dead': { destination: string; reason: string; status: number | null }
  // Firebase; subject = the part, the RTDB path or the hub schedule id.
  /** A part of the bridge reached Firebase again, or stopped reaching it (transitions only). */
  'firebase.status': { part: 'rtdb' | 'rtdb-stream' | 'firestore'; state: 'up' | 'down'; error?: string }
  /** A listened Realtime Database path changed (not by the hub's own mirror writes). */
  'firebase.rtdb.changed': { path: string; op: 'put' | 'patch'; data: unknown }
  'firebase.schedule.synced': {
    document: string
    schedule: string
    change: 'created' | 'updated' | 'removed'
  }
  /** A schedule document that cannot become a schedule (or whose time has passed), and why. */
  'firebase.schedule.invalid': { document: string; schedule: string; reason: string }
  /** A fired one-shot document was deleted, or kept because it changed since (the edit wins). */
  'firebase.schedule.deleted': {
    document: string
    schedule: string
    result: 'deleted' | 'kept'
    reason?: string
  }
  // Rules; subject = rule id.
  'rule.fired': {
    rule: string
    /** `cleared`: a hysteresis rule re-armed and ran its clear actions. */
    reason: 'fired' | 'cleared'
    input: unknown
    actions: Array<{ type: string; ok: boolean; error?: string }>
  }
  // Device groups, messaging, upstream and device state; subject = group, message or device id.
  'group.created': GroupCreateResult & { name: string; description: string | null }
  'group.added': GroupAddResult
  'group.subtracted': GroupSubtractResult
  'group.deleted': GroupDeleteResult
  'message.sent': SendResult
  /** Counts while recipients are still being reached (not stored; at most a few per second). */
  'message.progress': MessageProgress
  /** Every recipient has a final status: delivered, expired or failed. */
  'message.completed': MessageProgress
  'device.upstream': DeviceUpstream
  'device.reported': {
    device: string
    version: number
    reported: JsonObject
    delta: JsonObject
    pending: boolean
  }
  'device.desired': {
    device: string
    version: number
    desired: JsonObject
    delta: JsonObject
    source: string
  }
  'device.converged': { device: string; desiredVersion: number; reportedVersion: number; ms: number }
  'device.convergence_timeout': {
    device: string
    desiredVersion: number
    delta: JsonObject
    waitedMs: number
  }
}

/** Why a device went offline. */
export type DeviceOfflineReason =
  | 'disconnect'
  | 'connection lost'
  | 'keepalive timeout'
  | 'error'
  | 'taken over'
  | 'hub stopped'
  | 'hub restarted'

/** Why a CONNECT was refused (recorded as `auth.failed`). */
export type AuthFailure =
  | 'anonymous refused'
  | 'unknown device'
  | 'bad password'
  | 'device disabled'
  | 'unregistered certificate'
  | 'certificate mismatch'
  /** The client id names a persistent session another identity created. */
  | 'session of another identity'

export type EventType = keyof EventMap

/** One event as it travels on the bus, is stored in the event log and reaches the console. */
export interface HubEvent<K extends EventType = EventType> {
  /** Event-log row id once recorded; absent for events that are not stored. */
  id?: number
  type: K
  /** What the event is about (a device id, a hook name, a service name), for filtering. */
  subject?: string
  /** Milliseconds since the epoch. */
  ts: number
  detail: EventMap[K]
}

export type AnyHubEvent = { [K in EventType]: HubEvent<K> }[EventType]
