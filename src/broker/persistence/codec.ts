import aedesPacket from 'aedes-packet'
import type { Packet } from './types.ts'

/** A packet split for storage: every field but the payload as JSON, the payload as a BLOB (or TEXT). */
export interface EncodedPacket {
  packet: string
  payload: Uint8Array | string | null
}

/** SQLite hands BLOBs back as Uint8Array; Aedes and mqtt-packet expect Buffers. */
type StoredPayload = Uint8Array | string | null

// Keys whose value is `undefined` (JSON drops them). Aedes' packets carry `messageId: undefined`
// on purpose, and the abstract suite compares key sets, so they are kept by name.
const UNDEFINED_KEYS = '\u0000undefined'
// A binary value nested in the packet (MQTT 5 `properties.correlationData`).
const BINARY = '\u0000base64'
const BINARY_IN_JSON = JSON.stringify(BINARY).slice(1, -1)

/** Splits a packet for storage, keeping its exact shape: undefined fields, string payloads, nested Buffers. */
export function encodePacket(packet: Packet): EncodedPacket {
  let payload: Uint8Array | string | null = null
  let undefinedKeys: string[] | undefined
  let nested = false
  const rest: Record<string, unknown> = {}
  for (const key of Object.keys(packet)) {
    const value = packet[key]
    if (key === 'payload' && (typeof value === 'string' || value instanceof Uint8Array)) {
      payload = value
    } else if (value === undefined) {
      undefinedKeys ??= []
      undefinedKeys.push(key)
    } else {
      if (typeof value === 'object' && value !== null) nested = true
      rest[key] = value
    }
  }
  if (undefinedKeys) rest[UNDEFINED_KEYS] = undefinedKeys
  // The replacer costs a call per key, so only packets with nested objects pay for it.
  return { packet: nested ? JSON.stringify(rest, keepBinary) : JSON.stringify(rest), payload }
}

/** The inverse of `encodePacket`: a plain object equal to what was stored. */
export function decodePacket(json: string, payload: StoredPayload): Packet {
  const packet = (json.includes(BINARY_IN_JSON) ? JSON.parse(json, reviveBinary) : JSON.parse(json)) as Packet
  const undefinedKeys = packet[UNDEFINED_KEYS] as string[] | undefined
  if (undefinedKeys) {
    delete packet[UNDEFINED_KEYS]
    for (const key of undefinedKeys) if (!(key in packet)) packet[key] = undefined
  }
  if (payload !== null) packet.payload = toBuffer(payload)
  return packet
}

/** A Uint8Array from SQLite as a Buffer over the same memory; strings stay strings. */
export function toBuffer(value: Uint8Array | string): Buffer | string {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

function keepBinary(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `value` already went through Buffer#toJSON; the holder still has the original.
  const raw = this[key]
  return raw instanceof Uint8Array ? { [BINARY]: toBase64(raw) } : value
}

function reviveBinary(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && BINARY in value) {
    return Buffer.from((value as Record<string, string>)[BINARY] as string, 'base64')
  }
  return value
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

// aedes-packet's typings declare a plain function; at run time it is the constructor Aedes uses.
const AedesPacket = aedesPacket as unknown as new (original: Packet) => Packet

/**
 * The packet as Aedes queues it (`new Packet(packet)`, as the memory persistence does): defaults
 * filled in, and the messageId dropped for QoS > 0 so a queued copy never reuses the sender's id.
 */
export function queuedPacket(packet: Packet): Packet {
  return new AedesPacket(packet)
}
