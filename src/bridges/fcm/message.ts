import { PUSH_PLATFORMS, type PushPlatform } from '../../bus/payloads.ts'

/** Phones and browsers a token can belong to; the `push.*` events name them too. */
export const PLATFORMS = PUSH_PLATFORMS
export type Platform = PushPlatform

/** What to push (a template), before it is addressed to a token. */
export interface PushMessage {
  kind: 'silent' | 'notification'
  title?: string
  body?: string
  /** FCM data values are strings. */
  data: Record<string, string>
  /** APNs `thread-id`: groups notifications (source (b) put its message type here). */
  threadId?: string
  /** Android `collapse_key`, APNs `apns-collapse-id`: a newer message replaces an undelivered older one. */
  collapseKey?: string
  /** Android notification channel id (Android 8+ shows nothing for an unknown channel). */
  channel?: string
  /** Android notification tag: a notification with the same tag replaces the shown one. */
  tag?: string
}

type Json = Record<string, unknown>

/**
 * The FCM HTTP v1 request body for one token. `platform` null (a token given by hand, not
 * registered) gets every platform's block; FCM applies only the one of the token's platform.
 */
export function v1Body(token: string, platform: Platform | null, m: PushMessage): { message: Json } {
  const message: Json = { token }
  if (m.kind === 'notification') {
    message.notification = strip({ title: m.title, body: m.body })
  }
  if (Object.keys(m.data).length) message.data = m.data
  if (platform === null || platform === 'ios') message.apns = apns(m)
  if (platform === null || platform === 'android') {
    const a = android(m)
    if (a) message.android = a
  }
  if (platform === 'web') {
    const w = webpush(m)
    if (w) message.webpush = w
  }
  return { message }
}

function apns(m: PushMessage): Json {
  // Apple: a background push has push type `background`, priority 5 and an `aps` with only
  // content-available; anything else in `aps` makes it a visible one.
  if (m.kind === 'silent')
    return {
      headers: { 'apns-push-type': 'background', 'apns-priority': '5' },
      payload: { aps: { 'content-available': 1 } },
    }
  const headers: Record<string, string> = { 'apns-push-type': 'alert', 'apns-priority': '10' }
  if (m.collapseKey) headers['apns-collapse-id'] = m.collapseKey
  return { headers, ...(m.threadId ? { payload: { aps: { 'thread-id': m.threadId } } } : {}) }
}

function android(m: PushMessage): Json | undefined {
  // Data-only at normal priority: the app gets onMessageReceived without waking the phone from Doze.
  if (m.kind === 'silent') return strip({ priority: 'normal', collapse_key: m.collapseKey })
  const notification = strip({ channel_id: m.channel, tag: m.tag })
  const a = strip({
    collapse_key: m.collapseKey,
    ...(Object.keys(notification).length ? { notification } : {}),
  })
  return Object.keys(a).length ? a : undefined
}

function webpush(m: PushMessage): Json | undefined {
  // RFC 8030 Urgency: a silent message need not wake a device on battery.
  if (m.kind === 'silent') return { headers: { Urgency: 'normal' } }
  return m.tag ? { notification: { tag: m.tag } } : undefined
}

function strip(obj: Json): Json {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined))
}
