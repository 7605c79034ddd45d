// SUBSCRIBE → SUBACK [MQTT-3.8], [MQTT-3.9]: filters checked, authorizeSubscribe asked per filter
// in order, one SUBACK code per filter (duplicates included) [MQTT-3.9.3-1], then the retained
// messages the Retain Handling option asks for [MQTT-3.3.1-9] … [MQTT-3.3.1-11].
import type { ISubscribePacket } from 'mqtt-packet'
import { writePacket } from '../codec.ts'
import type { Connection } from '../connection.ts'
import { isPromise } from '../promise.ts'
import { parseFilter } from '../topics.ts'
import type { Message, Subscription } from '../types.ts'
import { quickSubscribe } from './quick-parse.ts'

/** A v5 reason code as 3.1.1's SUBACK has it: the granted QoS or 0x80 failure [MQTT-3.9.3-2]. */
const v3Code = (code: number): number => Math.min(code, 0x80)

export function handleSubscribe(conn: Connection, frame: Buffer): void | Promise<void> {
  // [MQTT-3.8.1-1] reserved flags 0010
  if ((frame[0]! & 0x0f) !== 2) return conn.close(0x81, 'SUBSCRIBE flags')
  let packet: ISubscribePacket
  try {
    packet =
      quickSubscribe(frame, conn.protocolLevel) ??
      (conn.core.parser.parse(frame, conn.protocolLevel) as ISubscribePacket)
  } catch (err) {
    return conn.close(0x81, (err as Error).message)
  }
  // [MQTT-2.2.1-3] (3.1.1 [MQTT-2.3.1-1]) a non-zero packet id
  if (!packet.messageId) return conn.close(0x82, 'packet id 0')
  // [MQTT-3.8.3-2] at least one filter
  if (packet.subscriptions.length === 0) return conn.close(0x82, 'SUBSCRIBE without filters')
  const identifier = packet.properties?.subscriptionIdentifier
  // §3.8.2.1.2 a Subscription Identifier of 0 is a protocol error
  if (identifier === 0) return conn.close(0x82, 'subscription identifier 0')
  return new SubscribeRequest(conn, packet, identifier).step(0)
}

/** One SUBSCRIBE on its way through the hooks: one object, closures only when a hook is async. */
class SubscribeRequest {
  readonly codes: number[] = []
  readonly accepted: Subscription[] = []
  readonly isNew: boolean[] = []

  constructor(
    readonly conn: Connection,
    readonly packet: ISubscribePacket,
    readonly identifier: number | undefined,
  ) {}

  apply(result: Subscription | number): void {
    const conn = this.conn
    if (typeof result === 'number') {
      this.codes.push(conn.protocolLevel === 5 ? result : v3Code(result))
      return
    }
    const core = conn.core
    const session = conn.session!
    const existed = session.subs.has(result.filter)
    // [MQTT-3.8.4-3] a subscription to the same filter replaces the old one
    session.subs.set(result.filter, result)
    core.subscribeTrie(session, result)
    if (session.persistent) core.op({ op: 'subscribe', clientId: session.clientId, subscription: result })
    this.codes.push(result.qos)
    this.accepted.push(result)
    this.isNew.push(!existed)
  }

  step(i: number): void | Promise<void> {
    const conn = this.conn
    const core = conn.core
    const subscriptions = this.packet.subscriptions
    for (; i < subscriptions.length; i++) {
      if (conn.state === 3) return
      const s = subscriptions[i]!
      // [MQTT-1.5.4-1] ill-formed UTF-8 is a malformed packet; U+0000 [MQTT-1.5.4-2] only makes
      // this filter invalid (parseFilter refuses it), the rest of the SUBSCRIBE stands
      if (s.topic.includes('\uFFFD')) return conn.close(0x81, 'filter is not valid UTF-8')
      const filter = core.hooks.rewriteTopic ? core.hooks.rewriteTopic(conn, s.topic) : s.topic
      const parsed = parseFilter(filter, core.limits.maxTopicLevels)
      if (!parsed) {
        // §3.9.3 0x8F topic filter invalid (3.1.1: 0x80)
        this.apply(0x8f)
        continue
      }
      // [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error
      if (parsed.group !== undefined && s.nl) return conn.close(0x82, 'no local on a shared subscription')
      const sub: Subscription = { filter, qos: s.qos }
      if (conn.protocolLevel === 5) {
        if (s.nl) sub.noLocal = true
        if (s.rap) sub.retainAsPublished = true
        if (s.rh) sub.retainHandling = s.rh as 1 | 2
        if (this.identifier !== undefined) sub.identifier = this.identifier
      }
      const hook = core.hooks.authorizeSubscribe
      if (!hook) {
        this.apply(sub)
        continue
      }
      let r: Subscription | number | Promise<Subscription | number>
      try {
        r = hook(conn, sub)
      } catch (err) {
        return core.hookFailed(conn, 'authorizeSubscribe', err)
      }
      if (isPromise<Subscription | number>(r)) {
        const next = i + 1
        return r.then((v) => {
          this.apply(v)
          return this.step(next)
        })
      }
      this.apply(r)
    }
    this.done()
  }

  done(): void {
    const conn = this.conn
    const core = conn.core
    const { codes, accepted, isNew, packet } = this
    if (conn.state === 3) return
    if (conn.protocolLevel === 5) {
      writePacket(conn.out, { cmd: 'suback', messageId: packet.messageId, granted: codes }, 5)
    } else {
      // [MQTT-3.9] 3.1.1 SUBACK: packet id and one return code per filter
      const out = conn.out
      out.ensure(5 + 2 + codes.length)
      out.byte(0x90)
      out.varint(2 + codes.length)
      out.u16(packet.messageId!)
      for (const code of codes) out.byte(code)
    }
    core.gate(conn)
    core.markDirty(conn)
    const session = conn.session!
    // A retained message matching several filters of one SUBSCRIBE goes once, with every
    // matching subscription's identifier (as one delivery matching several subscriptions).
    let matched: Map<Message, Subscription[]> | undefined
    for (let i = 0; i < accepted.length; i++) {
      const sub = accepted[i]!
      // [MQTT-3.3.1-9] … [MQTT-3.3.1-11] Retain Handling 0: always, 1: if new, 2: never;
      // never for a shared subscription (§4.8.2; mosquitto does the same)
      const rh = sub.retainHandling ?? 0
      if (rh === 2 || (rh === 1 && !isNew[i]) || sub.filter.startsWith('$share/')) continue
      for (const m of core.retainedMatching(sub.filter)) {
        matched ??= new Map()
        const subs = matched.get(m)
        if (subs) subs.push(sub)
        else matched.set(m, [sub])
      }
    }
    // [MQTT-3.3.1-8] retained messages sent for a new subscription carry retain 1
    if (matched) for (const [m, subs] of matched) core.deliverMatching(session, m, subs, null, true)
    if (accepted.length > 0 && core.hooks.subscribed) {
      try {
        core.hooks.subscribed(conn, accepted)
      } catch (err) {
        core.log.error('hook subscribed threw', { err, clientId: conn.id })
      }
    }
  }
}
