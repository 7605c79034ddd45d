/**
 * The wire contract shared with `web/`: event shapes, console frames and API bodies.
 * `web/` imports only types from here.
 */

import type { PresetName, PresetSettings } from './devices/presets.ts'

export type { PresetName, PresetSettings }

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
  // Devices and the broker's auth, ACL and presence (issue 3 points 4, 5, 8); subject = device id.
  'device.created': { id: string; name: string }
  'device.renamed': { id: string; name: string }
  'device.removed': { id: string }
  'device.rotated': { id: string }
  /** A disabled device is refused (CONNACK 5) and its live connections end; enabled, it may connect again. */
  'device.enabled': { device: string }
  'device.disabled': { device: string }
  'device.online': { id: string; clientId: string; address: string | null }
  'device.offline': { id: string; clientId: string | null; reason: DeviceOfflineReason }
  'auth.failed': { address: string; username: string | null; clientId: string; reason: AuthFailure }
  /** A persistent session's queue is full: new messages for it are dropped until it drains. */
  'mqtt.queue_overflow': { clientId: string; dropped: number }
  'acl.denied': {
    deviceId: string | null
    clientId: string
    action: 'publish' | 'subscribe'
    topic: string
    disconnected: boolean
    /** Present on a summary: this many denials of the client in one window, `topic` the last one. */
    count?: number
  }
  // People and API tokens (issue 4 point 2); subject = username or token id.
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
  // Actions, schedules and pollers (issue 5 points 3, 4); subject = the source (`schedule:<id>`) or schedule id.
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
  /** A sensor's POST /ingest/:device once its readings are stored, with the whole parsed body (issue 4 point 5). */
  'ingest.received': { device: string; body: unknown; stored: number; ignored: string[] }
  // Inbound webhooks (issue 4 point 4); subject = hook name.
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
  // The outbox (issue 4 point 7); subject = `<kind>:<target>`.
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
  // FCM push (issue 6 point 1); subject = the push target (`all`, `label:<l>`, …) or a token id.
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
  // Slack (issue 6 point 2); subject = the destination's name.
  'slack.sent': { destination: string; alerts: number }
  /** Slack said the destination is gone (403/404/410, channel_not_found …); nothing more is sent to it. */
  'slack.dead': { destination: string; reason: string; status: number | null }
  // Firebase (issue 6 points 3, 4); subject = the part, the RTDB path or the hub schedule id.
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
  // Rules (issue 5 point 2); subject = rule id.
  'rule.fired': {
    rule: string
    /** `cleared`: a hysteresis rule re-armed and ran its clear actions. */
    reason: 'fired' | 'cleared'
    input: unknown
    actions: Array<{ type: string; ok: boolean; error?: string }>
  }
  // Device groups, messaging, upstream and device state (issue 7); subject = group, message or device id.
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
    id: string
    version: number
    reported: JsonObject
    delta: JsonObject
    pending: boolean
  }
  'device.desired': { id: string; version: number; desired: JsonObject; delta: JsonObject; source: string }
  'device.converged': { id: string; desiredVersion: number; reportedVersion: number; ms: number }
  'device.convergence_timeout': { id: string; desiredVersion: number; delta: JsonObject; waitedMs: number }
}

/** Where a push token lives (issue 6 point 1). */
export type PushPlatform = 'ios' | 'android' | 'web'

/** Why a device went offline (issue 3 point 8). */
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

/** One page of a cursor-paginated list. */
export interface Page<T> {
  items: T[]
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string
}

/** The answer to every console or MQTT request [STYLE 10]. */
export type Reply<T = unknown> =
  | { id: string | number; ok: true; data: T }
  | { id: string | number; ok: false; code: number; error: string }

/** What the hub sends a console over `/ws`. */
export type ConsoleFrame =
  | { type: 'snapshot'; data: unknown }
  | { type: 'event'; event: AnyHubEvent }
  /** The console read too slowly: this many frames were dropped, oldest first. */
  | { type: 'dropped'; count: number }
  | ({ type: 'reply' } & Reply)

/** What a console sends: a request answered by a `reply` frame with the same id. */
export interface ConsoleRequest {
  id: string | number
  action: string
  body?: unknown
}

/** A JSON object as it came over the wire (device state, desired state, deltas). */
export type JsonObject = { [key: string]: unknown }

// Issue 7: device groups and messaging, in the result shapes of source (c)'s push platform.

/** `createDeviceGroup` (REST `POST /groups`). */
export interface GroupCreateResult {
  groupId: string
  deviceSize: number
  /** Ids that are not registered devices. */
  failedDevices: string[]
}

/** `addDeviceGroup` (REST `POST /groups/:groupId/add`). */
export interface GroupAddResult {
  groupId: string
  totalDeviceSize: number
  addedDeviceSize: number
  failedDevices: string[]
}

/** `subtractDeviceGroup` (REST `POST /groups/:groupId/subtract`). */
export interface GroupSubtractResult {
  groupId: string
  totalDeviceSize: number
  removedDeviceSize: number
  failedDevices: string[]
}

/** `deleteDeviceGroup` (REST `DELETE /groups/:groupId`). */
export interface GroupDeleteResult {
  groupId: string
}

export interface DeviceGroupInfo {
  groupId: string
  name: string
  description: string | null
  deviceSize: number
  createdAt: number
  updatedAt: number
}

export type MessageKind = 'unicast' | 'multicast' | 'broadcast' | 'group'
/** delivered = the device's PUBACK reached the hub. */
export type RecipientStatus = 'queued' | 'delivered' | 'expired' | 'failed'

/** `sendUnicastMsg`, `sendMulticastMsg`, `sendBroadcastMsg`, `sendGroupMsg` (REST `POST /messages/<kind>`). */
export interface SendResult {
  messageId: string
  kind: MessageKind
  groupId: string | null
  /** Registered devices the message is for. */
  recipientSize: number
  /** Of those, published at once (connected and subscribed to their inbox); the rest wait for them. */
  sentSize: number
  failedDevices: string[]
  expiresAt: number
}

export interface MessageCounts {
  queued: number
  delivered: number
  expired: number
  failed: number
}

export interface MessageProgress extends MessageCounts {
  messageId: string
  kind: MessageKind
}

/** What a device finds on its inbox topic: the sent message wrapped with its id and expiry. */
export interface InboxEnvelope {
  messageId: string
  kind: MessageKind
  groupId?: string
  message: unknown
  sentAt: number
  expiresAt: number
}

export interface RecipientView {
  deviceId: string
  status: RecipientStatus
  sentAt: number | null
  attempts: number
  deliveredAt: number | null
  error: string | null
  /** Only when the send asked for a push notification. */
  push: { status: 'sent' | 'failed'; error: string | null } | null
}

/** `GET /api/v1/messages/:id`. */
export interface MessageView extends MessageCounts {
  messageId: string
  kind: MessageKind
  groupId: string | null
  message: unknown
  push: { title: string; body: string } | null
  failedDevices: string[]
  createdBy: string | null
  createdAt: number
  expiresAt: number
  recipients: RecipientView[]
  /** Pass as `cursor` for the next page of recipients. */
  nextCursor?: string
}

/** A device's message on its outbox topic (source (c)'s `onUpstreamMsgReceived(sender, sendTime, msg)`). */
export interface DeviceUpstream {
  sender: string
  sendTime: number
  topic: string
  /** The parsed JSON value, else the text, else base64 (see encoding). */
  payload: unknown
  encoding: 'json' | 'utf8' | 'base64'
  clientId: string | null
}

/** `GET /api/v1/devices/:id/state`. */
export interface DeviceStateView {
  deviceId: string
  reported: JsonObject
  reportedVersion: number
  reportedAt: number | null
  desired: JsonObject
  desiredVersion: number
  desiredAt: number | null
  /** Desired keys whose reported value differs. */
  delta: JsonObject
  /** Desired state was sent and the device has not confirmed it yet. */
  pending: boolean
  sentAt: number | null
  /** When device.convergence_timeout is raised if still pending. */
  deadline: number | null
  timedOutAt: number | null
}

export type { ErrorBody } from './errors.ts'

// Issue 8: what the console reads. The REST shapes mirror /api/v1/openapi.json (the route schemas
// are the source of truth); the console imports these as types only.

/** The `snapshot` frame's data: recent events and what the console needs to know of the hub. */
export interface ConsoleSnapshot {
  events: AnyHubEvent[]
  hub?: ConsoleHubInfo
}

export interface ConsoleHubInfo {
  version: string
  mqttPort: number
  mqttTlsPort: number | null
  /** MQTT over WebSocket on the HTTP port, when enabled. */
  mqttWsPath: string | null
  /** Per-device topic patterns (`%u` = device id). */
  topics: { inbox: string; outbox: string; state: string; set: string }
}

export interface UserView {
  id: number
  username: string
  role: string
  createdAt: number
}

export interface MeView {
  principal: { kind: 'user' | 'token' | 'device'; id: string; scope: 'read' | 'write' | 'admin' }
  user?: UserView
  csrfToken?: string
}

export interface TokenView {
  id: string
  name: string
  scope: 'read' | 'write' | 'admin'
  prefix: string
  createdBy: string | null
  createdAt: number
  lastUsedAt: number | null
}

export interface DeviceView {
  id: string
  name: string
  username: string
  enabled: boolean
  createdAt: number
  credentialsAt: number
  lastSeen: number | null
  online: boolean
  lastClientId: string | null
  lastAddress: string | null
  lastDisconnectReason: string | null
  /** The tool the device was registered for. */
  preset: PresetName | null
}

export interface AclRuleView {
  pattern: string
  access: 'read' | 'write' | 'readwrite'
}

export interface DeviceCredentialsView {
  id: string
  username: string
  password: string
}

export interface RetainedView {
  topic: string
  payload: string
  encoding: 'utf8' | 'base64'
  qos: number
}

export interface HookView {
  name: string
  preset: string
  topic: string
  payload: 'raw' | 'field' | 'template'
  qos: number
  retain: boolean
  source: 'config' | 'api'
  hasSecret: boolean
  url: string
}

export interface HookDeliveryView {
  id: number
  hook: string
  ts: number
  deliveryId: string | null
  contentType: string | null
  headers: Record<string, string>
  body: string
  bodyEncoding: 'utf8' | 'base64'
  bodySize: number
  verification: string
  status: number
  code: number | null
  published: { topic: string; payload: string; qos: number; retain: boolean } | null
  replayOf: number | null
}

export interface WebhookTargetView {
  name: string
  filter: string
  url: string
  enabled: boolean
  source: 'config' | 'api'
  signed: boolean
}

export interface OutboxEntryView {
  id: number
  kind: string
  target: string
  key: string
  payload?: unknown
  state: 'pending' | 'sending' | 'dead'
  attempts: number
  createdAt: number
  nextAt: number
  updatedAt: number
  lastError: string | null
  lastStatus: number | null
  deadReason: string | null
}

export interface TelemetrySeriesView {
  device: string
  metric: string
  from: number
  to: number
  source: 'raw' | 'minute' | 'hour'
  stepMs: number
  points: Array<{ ts: number; value: number; min?: number; max?: number }>
}

export interface TelemetryLatestView {
  items: Array<{ device: string; metric: string; ts: number; value: number }>
}

export interface ScheduleView {
  id: string
  origin: 'api' | 'config'
  /** The schedule as written (kind, cron/at/every, actions …). */
  schedule: JsonObject
  state: {
    timezone: string
    nextRunAt: number | null
    nextRun: string | null
    lastRunAt: number | null
    doneAt: number | null
    running: boolean
  }
  createdAt: number
  updatedAt: number
}

export interface ScheduleRunView {
  id: number
  scheduledAt: number
  startedAt: number
  finishedAt: number | null
  status: 'running' | 'ok' | 'failed' | 'skipped' | 'interrupted'
  late: boolean
  reason: string | null
  results: unknown[] | null
}

export interface ScheduleNextView {
  id: string
  timezone: string
  runs: Array<{ at: number; local: string }>
}

export interface RuleView {
  /** The rule as written (id, trigger, when, actions, enabled …). */
  rule: JsonObject
  origin: 'config' | 'api'
  suspended: boolean
}

export interface RuleTestView {
  firings: Array<{ subject?: string; reason: 'fired' | 'cleared'; input?: unknown; actions: unknown[] }>
}

/** A registered push token, `GET /api/v1/push/tokens` (issue 6 point 1). */
export interface PushTokenView {
  id: string
  token: string
  platform: PushPlatform
  device: string | null
  user: string | null
  labels: string[]
  createdAt: number
  /** Last (re-)registration. */
  updatedAt: number
  ageMs: number
  lastSuccessAt: number | null
  lastFailureAt: number | null
  lastError: string | null
  /** Failed sends since the last success. */
  failures: number
}

/** `POST /api/v1/push/send`: what was queued; each batch's `push.batch` event names it by its key. */
export interface PushSendView {
  target: string
  tokens: number
  batches: number
  batchKeys: string[]
}

export interface PushPauseView {
  target: string
  reason: string
  pausedAt: number
}

/** ok: delivering; degraded: retrying or dead letters wait; down: cannot deliver; disabled: not set up. */
export type BridgeState = 'ok' | 'degraded' | 'down' | 'disabled'
export type BridgeKind = 'webhook' | 'fcm' | 'slack' | 'rtdb' | 'firestore' | 'poller'

/** One bridge to the outside, `GET /api/v1/bridges` (issue 8: the console's bridge status). */
export interface BridgeStatusView {
  /** `<kind>:<name>`, unique. */
  id: string
  kind: BridgeKind
  name: string
  state: BridgeState
  /** Why it is in that state, for a person. */
  detail: string | null
  /** Its deliveries waiting in the outbox, and its dead letters. */
  pending: number
  dead: number
  lastSuccessAt: number | null
  lastErrorAt: number | null
  lastError: string | null
}
