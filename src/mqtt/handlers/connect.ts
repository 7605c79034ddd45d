// CONNECT → CONNACK [MQTT-3.1], [MQTT-3.2]: validation, the hub's preConnect and authenticate
// hooks, the session owner check, takeover, Clean Start and session resumption.
import { randomUUID } from 'node:crypto'
import type { IConnackPacket, IConnectPacket, UserProperties } from 'mqtt-packet'
import { looksMalformed, PUBREL, writeAck, writePacket } from '../codec.ts'
import type { Connection } from '../connection.ts'
import { isPromise } from '../promise.ts'
import { NEVER, Session } from '../session.ts'
import { validTopicName } from '../topics.ts'
import { type ConnectRequest, type Message, MqttError, type ProtocolLevel, type Will } from '../types.ts'
import { quickConnect } from './quick-parse.ts'

/** The 3.1/3.1.1 CONNACK return code nearest to a v5 reason code [MQTT-3.2.2.3]. */
function v3ConnackCode(code: number): number {
  switch (code) {
    case 0:
      return 0
    case 0x84:
      return 1
    case 0x85:
      return 2
    case 0x86:
      return 4
    case 0x87:
    case 0x8a:
    case 0x8c:
      return 5
    default:
      return 3
  }
}

/** v5 user properties as mqtt-packet hands them (an object of arrays), back to pairs in order. */
function userPropertyPairs(u: UserProperties | undefined): Array<readonly [string, string]> | undefined {
  if (!u) return undefined
  const out: Array<readonly [string, string]> = []
  for (const [k, v] of Object.entries(u)) {
    if (Array.isArray(v)) for (const item of v) out.push([k, item])
    else out.push([k, v])
  }
  return out
}

function sendConnack(
  conn: Connection,
  sessionPresent: boolean,
  code: number,
  properties?: IConnackPacket['properties'],
): void {
  if (conn.protocolLevel === 5) {
    writePacket(conn.out, { cmd: 'connack', sessionPresent, reasonCode: code, properties }, 5)
  } else {
    conn.out.ensure(4)
    conn.out.byte(0x20)
    conn.out.byte(2)
    // [MQTT-3.2.2-4] session present 0 on a refused CONNECT
    conn.out.byte(sessionPresent && code === 0 ? 1 : 0)
    conn.out.byte(v3ConnackCode(code))
  }
  conn.core.markDirty(conn)
}

/** Refuses the CONNECT with a CONNACK and closes [MQTT-3.2.2-6]. */
function refuse(conn: Connection, code: number, reason: string): undefined {
  sendConnack(conn, false, code, conn.protocolLevel === 5 ? { reasonString: reason } : undefined)
  conn.core.log.debug('CONNECT refused', { clientId: conn.id, code, reason })
  conn.close(code, reason)
}

/** Ends the connection without a CONNACK: a malformed CONNECT from a 3.1.1 client [MQTT-4.8.0-1]. */
function malformed(conn: Connection, code: number, reason: string): undefined {
  if (conn.protocolLevel === 5) refuse(conn, code, reason)
  else conn.close(code, reason)
}

const NO_PROPERTIES: NonNullable<IConnectPacket['properties']> = Object.freeze({})

export function handleConnect(conn: Connection, frame: Buffer): void | Promise<void> {
  const core = conn.core
  let packet: IConnectPacket
  try {
    packet = quickConnect(frame) ?? (conn.core.parser.parse(frame, 4) as IConnectPacket)
  } catch (err) {
    if (/protocol version|protocolId/i.test((err as Error).message)) {
      // [MQTT-3.1.2-2] unsupported protocol level: CONNACK 0x01 (3.1.1 format, all a client reads)
      conn.protocolLevel = 4
      sendConnack(conn, false, 0x84)
      conn.close(0x84, 'unsupported protocol version')
    } else conn.close(0x81, (err as Error).message)
    return
  }
  const level = (packet.protocolVersion ?? 4) as ProtocolLevel
  conn.protocolLevel = level
  const props = packet.properties ?? NO_PROPERTIES
  let clientId = packet.clientId ?? ''

  // [MQTT-1.5.4-1] / 3.1.1 [MQTT-1.5.3-1] ill-formed UTF-8 is a malformed packet
  if (looksMalformed(clientId) || (packet.username !== undefined && looksMalformed(packet.username))) {
    return malformed(conn, 0x81, 'client identifier or user name is not valid UTF-8')
  }
  if (packet.will) {
    // [MQTT-3.1.2-12] (3.1.1 [MQTT-3.1.2-14]) will QoS 3 is malformed
    if ((packet.will.qos as number) === 3) return malformed(conn, 0x81, 'will QoS 3')
    if (looksMalformed(packet.will.topic)) return malformed(conn, 0x81, 'will topic is not valid UTF-8')
    if (!validTopicName(packet.will.topic, core.limits.maxTopicLevels)) {
      return malformed(conn, 0x90, 'will topic is not a valid topic name')
    }
  }
  if (level === 5) {
    // §3.1.2.11.3, §3.1.2.11.4: Receive Maximum and Maximum Packet Size of 0 are protocol errors
    if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) {
      return refuse(conn, 0x82, 'receive maximum or maximum packet size is 0')
    }
    // No extended authentication method is implemented [MQTT-4.12.0-1].
    if (props.authenticationMethod !== undefined) return refuse(conn, 0x8c, 'bad authentication method')
  }

  let assigned: string | undefined
  if (clientId.length === 0) {
    // [MQTT-3.1.3-8] 3.1.1: an empty id needs a clean session; 3.1 requires an id
    if (level === 3 || (level === 4 && !packet.clean)) return refuse(conn, 0x85, 'client identifier required')
    // [MQTT-3.1.3-6], [MQTT-3.2.2-16] assign one (and tell a v5 client)
    clientId = `auto-${randomUUID()}`
    assigned = clientId
  }
  conn.id = clientId
  conn.username = packet.username
  conn.cleanStart = packet.clean !== false
  conn.keepAlive = packet.keepalive ?? 0
  let serverKeepAlive: number | undefined
  if (level === 5 && core.limits.serverKeepAlive > 0) {
    // [MQTT-3.2.2-21] the client uses the server's value
    serverKeepAlive = core.limits.serverKeepAlive
    conn.keepAlive = serverKeepAlive
  }

  const requested = level === 5 ? (props.sessionExpiryInterval ?? 0) : conn.cleanStart ? 0 : NEVER
  const expiry = Math.min(requested, core.limits.maxSessionExpiryInterval)
  if (level === 5) {
    if (props.receiveMaximum !== undefined) conn.sendWindow = props.receiveMaximum
    if (props.maximumPacketSize !== undefined) conn.maxPacketOut = props.maximumPacketSize
    if (props.topicAliasMaximum !== undefined) conn.aliasMaxOut = props.topicAliasMaximum
    conn.requestProblemInformation = props.requestProblemInformation !== false
  }

  let will: Will | undefined
  if (packet.will) {
    const wp = packet.will.properties ?? {}
    const payload = Buffer.isBuffer(packet.will.payload)
      ? Buffer.from(packet.will.payload)
      : Buffer.from(packet.will.payload ?? '')
    const properties = {
      ...(wp.payloadFormatIndicator !== undefined && {
        payloadFormatIndicator: wp.payloadFormatIndicator ? 1 : 0,
      }),
      ...(wp.contentType !== undefined && { contentType: wp.contentType }),
      ...(wp.responseTopic !== undefined && { responseTopic: wp.responseTopic }),
      ...(wp.correlationData !== undefined && { correlationData: Buffer.from(wp.correlationData) }),
      ...(wp.userProperties !== undefined && { userProperties: userPropertyPairs(wp.userProperties) }),
    } as Message['properties'] & object
    // [MQTT-3.1.3-11] a will marked UTF-8 must be UTF-8
    if (properties.payloadFormatIndicator === 1 && !isWellFormed(payload)) {
      return refuse(conn, 0x99, 'will payload is not UTF-8')
    }
    const message: Message = {
      topic: packet.will.topic,
      payload,
      qos: packet.will.qos ?? 0,
      retain: packet.will.retain === true,
      ...(Object.keys(properties).length > 0 && { properties }),
    }
    will = {
      message,
      delayInterval: wp.willDelayInterval ?? 0,
      ...(wp.messageExpiryInterval !== undefined && { expiryInterval: wp.messageExpiryInterval }),
    }
  }

  const attempt = new ConnectAttempt(
    conn,
    packet,
    clientId,
    level,
    will,
    expiry,
    requested,
    assigned,
    serverKeepAlive,
  )
  try {
    if (!core.connectAllowed(conn.remoteAddress)) {
      core.counters.refusedConnections++
      return refuse(conn, 0x9f, 'connection rate exceeded')
    }
    if (core.live.size >= core.limits.maxConnections && !core.live.has(clientId)) {
      core.counters.refusedConnections++
      return refuse(conn, 0x97, 'server is at its connection limit')
    }
    const pre = core.hooks.preConnect?.(conn, attempt)
    if (isPromise<void>(pre)) {
      return pre.then(() => {
        try {
          return attempt.authenticate()
        } catch (err) {
          attempt.fail(err)
        }
      }, attempt.failed)
    }
    return attempt.authenticate()
  } catch (err) {
    attempt.fail(err)
  }
}

/**
 * One CONNECT between its validation and CONNACK: what it asked for (the hooks' ConnectRequest)
 * and the steps through the hooks. One object per CONNECT; closures only when a hook is async.
 */
class ConnectAttempt implements ConnectRequest {
  readonly cleanStart: boolean
  readonly keepAlive: number
  readonly username: string | undefined
  readonly sessionExpiryInterval: number

  constructor(
    readonly conn: Connection,
    readonly packet: IConnectPacket,
    readonly clientId: string,
    readonly protocolLevel: ProtocolLevel,
    public will: Will | undefined,
    readonly expiry: number,
    readonly requested: number,
    readonly assigned: string | undefined,
    readonly serverKeepAlive: number | undefined,
  ) {
    this.cleanStart = conn.cleanStart
    this.keepAlive = conn.keepAlive
    this.username = packet.username
    this.sessionExpiryInterval = expiry
  }

  fail(err: unknown): undefined {
    const conn = this.conn
    if (err instanceof MqttError) return refuse(conn, err.reasonCode, err.message)
    conn.core.log.error('hook threw during CONNECT', { err, clientId: this.clientId })
    refuse(conn, 0x83, 'implementation specific error')
  }

  /** `fail` for a promise's rejection. */
  get failed(): (err: unknown) => undefined {
    return (err) => this.fail(err)
  }

  authenticate(): void | Promise<void> {
    const conn = this.conn
    const hook = conn.core.hooks.authenticate
    const r = hook ? hook(conn, this.packet.username, this.packet.password) : undefined
    if (isPromise<string>(r)) return r.then((owner) => this.finish(owner), this.failed)
    return this.finish(r)
  }

  // The will is authorized like a PUBLISH of the client as soon as the client is known: one it
  // may not publish is withdrawn now (the refusal reported once), not found out when it fires.
  finish(owner: string | undefined): void | Promise<void> {
    const conn = this.conn
    const will = this.will
    const rewrite = conn.core.hooks.rewriteTopic
    if (will && rewrite) will.message.topic = rewrite(conn, will.message.topic)
    const authorize = conn.core.hooks.authorizePublish
    if (!will || !authorize || conn.state === 3) return this.admit(owner)
    const decide = (v: Message | number | undefined) => {
      if (typeof v === 'number') this.will = undefined
      else if (v) will.message = v
      this.admit(owner)
    }
    const r = authorize(conn, will.message)
    if (isPromise<Message | number | undefined>(r)) return r.then(decide, this.failed)
    decide(r)
  }

  admit(owner: string | undefined): void {
    if (this.conn.state === 3) return
    accept(
      this.conn,
      this,
      owner,
      this.expiry,
      this.requested,
      this.assigned,
      this.serverKeepAlive,
      this.packet,
    )
  }
}

function isWellFormed(b: Buffer): boolean {
  return b.length === 0 || Buffer.from(b.toString('utf8')).equals(b)
}

function accept(
  conn: Connection,
  request: ConnectRequest,
  owner: string | undefined,
  expiry: number,
  requested: number,
  assigned: string | undefined,
  serverKeepAlive: number | undefined,
  packet: IConnectPacket,
): void {
  const core = conn.core
  const clientId = request.clientId
  let session = core.sessions.get(clientId)
  // A session belongs to the identity that made it; another identity may not take it over, and
  // the client holding it stays connected.
  if (session?.owner !== undefined && session.owner !== owner) {
    try {
      core.hooks.sessionRefused?.(conn, session.owner)
    } catch (err) {
      core.log.error('hook sessionRefused threw', { err, clientId })
    }
    refuse(conn, 0x87, 'not authorized')
    return
  }
  // [MQTT-3.1.4-3] the client already connected with this id is disconnected (0x8E)
  const old = core.live.get(clientId)
  if (old && old !== conn) old.close(0x8e, 'session taken over')
  session = core.sessions.get(clientId)
  let present = false
  if (session && conn.cleanStart) {
    // [MQTT-3.1.2-4] Clean Start: the existing session ends (its pending will goes out)
    if (session.will && session.willAt > 0) core.publishWill(session, null)
    core.destroySession(session)
    session = undefined
  }
  if (session) {
    // [MQTT-3.2.2-2] session present; [MQTT-3.1.3-9] a pending delayed will is cancelled
    present = true
    session.will = undefined
    session.willAt = 0
    if (session.stored && expiry === 0) {
      core.op({ op: 'session-delete', clientId })
      session.stored = false
    }
  } else {
    session = new Session(clientId, owner, request.protocolLevel, expiry, undefined)
    core.sessions.set(clientId, session)
  }
  core.timed.delete(session)
  session.owner = owner
  session.protocolLevel = request.protocolLevel
  session.expiryInterval = expiry
  session.disconnectedAt = undefined
  session.will = request.will
  session.conn = conn
  conn.session = session
  conn.owner = owner
  if (session.persistent || request.will || session.stored) {
    session.stored = true
    core.op({
      op: 'session',
      clientId,
      owner,
      protocolLevel: request.protocolLevel,
      expiryInterval: expiry,
      disconnectedAt: undefined,
    })
    core.op({ op: 'will', clientId, will: request.will })
  }
  core.live.set(clientId, conn)
  conn.releasePending()
  conn.markConnected()

  let properties: IConnackPacket['properties']
  if (conn.protocolLevel === 5) {
    const limits = core.limits
    const pp = packet.properties ?? {}
    properties = {
      ...(expiry !== requested && { sessionExpiryInterval: expiry }),
      ...(limits.receiveMaximum < 65535 && { receiveMaximum: limits.receiveMaximum }),
      maximumPacketSize: limits.maxPacketSize,
      ...(limits.topicAliasMaximum > 0 && { topicAliasMaximum: limits.topicAliasMaximum }),
      ...(assigned !== undefined && { assignedClientIdentifier: assigned }),
      ...(serverKeepAlive !== undefined && { serverKeepAlive }),
    }
    if (pp.requestResponseInformation) {
      // [MQTT-3.1.2-28] Response Information only when asked for
      const info = core.responseInformation?.(conn)
      if (info !== undefined) properties.responseInformation = info
    }
  }
  // [MQTT-3.2.2-1] 3.1.1: session present 0 with a clean session
  sendConnack(conn, present, 0, properties)
  // [MQTT-4.4.0-1] resend what was in flight, PUBLISH with DUP and PUBREL, in order, before
  // anything new (what the connected hook publishes among it)
  for (const [packetId, item] of session.inflight ?? []) {
    if (item.state === 'released') writeAck(conn.out, PUBREL, packetId, conn.protocolLevel)
    else if (
      !core.writePublish(
        conn,
        item.message,
        item.message.qos,
        item.message.retain,
        packetId,
        true,
        item.subscriptionIds,
      )
    ) {
      core.complete(session, packetId)
    }
  }
  core.markDirty(conn)
  core.pump(session)
  try {
    core.hooks.connected?.(conn)
  } catch (err) {
    core.hookFailed(conn, 'connected', err)
  }
}
