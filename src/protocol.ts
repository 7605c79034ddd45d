/**
 * The wire contract shared with `web/`: event shapes, console frames and API bodies, as types only.
 * Each shape is a schema in its domain module (or beside its route when it is an HTTP shape only);
 * this file names them in one place for `http/`, `cli/` and `web/` and is imported by no domain
 * folder [STYLE 6].
 */

export type { PushPauseView, PushSendView, PushTokenView } from './bridges/fcm/views.ts'
export type { BridgeKind, BridgeState, BridgeStatusView } from './bridges/status-schema.ts'
export type { TargetView as WebhookTargetView } from './bridges/webhook/schema.ts'
export type {
  AnyHubEvent,
  AuthFailure,
  DeviceOfflineReason,
  EventMap,
  EventType,
  HubEvent,
} from './bus/events.ts'
// Every payload shape; `export type` keeps the schemas out, as `web/` imports types only.
export type * from './bus/payloads.ts'
export type { PresetName } from './devices/presets.ts'
export type {
  AclRuleView,
  DeviceCredentialsView,
  DeviceGroupInfo,
  DeviceStateView,
  DeviceView,
  InboxEnvelope,
  MessageSummary,
  MessageView,
  PresetSettings,
  RecipientStatus,
  RecipientView,
} from './devices/schema.ts'
export type { ErrorBody } from './errors.ts'
export type { HookDeliveryView } from './hooks/delivery-schema.ts'
export type { HookView } from './hooks/schema.ts'
export type {
  ConsoleActions,
  ConsoleFrame,
  ConsoleHubInfo,
  ConsoleRequest,
  ConsoleSnapshot,
  Reply,
} from './http/console/frames.ts'
export type { MeView } from './http/routes/auth.ts'
export type { RetainedView } from './http/routes/retained.ts'
export type {
  ScheduleNextView,
  ScheduleRunView,
  ScheduleStateView,
  ScheduleView,
} from './jobs/view-schema.ts'
export type { OutboxEntryView } from './outbox/schema.ts'
export type { RuleTestView, RuleView } from './rules/view-schema.ts'
export type { Scope, TokenView, UserView } from './store/schema.ts'
export type { TelemetryLatestView, TelemetryPoint, TelemetrySeriesView } from './telemetry/schema.ts'
export type { Page } from './util/page.ts'
