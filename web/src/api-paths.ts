import type {
  AclRuleView,
  AnyHubEvent,
  BridgeStatusView,
  DeviceCredentialsView,
  DeviceStateView,
  DeviceView,
  HookDeliveryView,
  HookView,
  MeView,
  OutboxEntryView,
  Page,
  PresetSettings,
  PushPauseView,
  PushSendView,
  PushTokenView,
  RetainedView,
  RuleTestView,
  RuleView,
  ScheduleNextView,
  ScheduleRunView,
  ScheduleView,
  TelemetryLatestView,
  TelemetrySeriesView,
  TokenView,
  UserView,
  WebhookTargetView,
} from '../../src/protocol.ts'

/**
 * What each `/api/v1` path answers, by method: a path pattern and its result type, the most
 * specific pattern first (`${string}` stands for a path parameter). The console calls `api.get`
 * and friends with a path, and the answer's type follows from it.
 */
type GetTable = [
  ['/auth/me', MeView],
  ['/devices', { items: DeviceView[] }],
  [`/devices/${string}/acl`, { items: AclRuleView[] }],
  [`/devices/${string}/state`, DeviceStateView],
  [`/devices/${string}`, DeviceView & { acl: AclRuleView[] }],
  ['/retained', { items: RetainedView[]; truncated: boolean }],
  ['/bridges', { items: BridgeStatusView[]; checkedAt: number }],
  [`/bridges/${string}`, BridgeStatusView],
  ['/users', { items: UserView[] }],
  ['/tokens', { items: TokenView[] }],
  ['/push/tokens', Page<PushTokenView>],
  ['/push/pauses', { items: PushPauseView[] }],
  ['/outbox', Page<OutboxEntryView>],
  ['/schedules', { items: ScheduleView[] }],
  [`/schedules/${string}/next`, ScheduleNextView],
  [`/schedules/${string}/runs`, { items: ScheduleRunView[] }],
  [`/schedules/${string}`, ScheduleView],
  ['/events', Page<AnyHubEvent>],
  ['/rules', { items: RuleView[] }],
  ['/telemetry/latest', TelemetryLatestView],
  ['/telemetry', TelemetrySeriesView],
  ['/hooks', { items: HookView[] }],
  [`/hooks/${string}/deliveries`, Page<HookDeliveryView>],
  ['/webhook-targets', { items: WebhookTargetView[] }],
]

type PostTable = [
  ['/auth/login', { user: UserView; csrfToken: string; expiresAt: number }],
  ['/auth/logout', unknown],
  ['/auth/password', unknown],
  ['/devices', { device: DeviceView; credentials: DeviceCredentialsView; settings?: PresetSettings }],
  [`/devices/${string}/rotate`, DeviceCredentialsView],
  [`/devices/${string}/acl`, AclRuleView],
  ['/publish', { topic: string; bytes: number }],
  ['/users', { user: UserView; password?: string }],
  ['/tokens', { token: TokenView; secret: string }],
  ['/push/send', PushSendView],
  ['/outbox/replay', { replayed: number }],
  [`/outbox/${string}/replay`, OutboxEntryView],
  ['/schedules', ScheduleView],
  [`/schedules/${string}/run`, ScheduleRunView],
  [`/rules/${string}/test`, RuleTestView],
  ['/hooks', { hook: HookView; secret?: string }],
  [`/hooks/${string}/deliveries/${string}/replay`, HookDeliveryView],
  ['/webhook-targets', { target: WebhookTargetView; secret?: string }],
]

type PutTable = [[`/schedules/${string}`, ScheduleView], [`/rules/${string}`, RuleView]]

type PatchTable = [
  [`/devices/${string}/state`, DeviceStateView],
  [`/devices/${string}`, DeviceView],
  [`/users/${string}`, UserView],
]

type Row = [string, unknown]
/** The result of the first row whose pattern `P` matches. */
type Match<P extends string, T extends Row[]> = T extends [infer R extends Row, ...infer Rest extends Row[]]
  ? P extends R[0]
    ? R[1]
    : Match<P, Rest>
  : never

export type GetPath = GetTable[number][0]
export type PostPath = PostTable[number][0]
export type PutPath = PutTable[number][0]
export type PatchPath = PatchTable[number][0]
export type GetResult<P extends GetPath> = Match<P, GetTable>
export type PostResult<P extends PostPath> = Match<P, PostTable>
export type PutResult<P extends PutPath> = Match<P, PutTable>
export type PatchResult<P extends PatchPath> = Match<P, PatchTable>
