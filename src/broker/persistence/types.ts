import type { Readable } from 'node:stream'

/**
 * A packet as Aedes hands it to the persistence: the mqtt-packet fields plus Aedes' own
 * (`brokerId`, `brokerCounter`, `clientId` …). Stored whole: the upstream abstract suite
 * deep-compares what comes back, extra fields included.
 */
export type Packet = {
  [key: string]: unknown
  cmd?: string
  topic?: string
  payload?: unknown
  qos?: number
  retain?: boolean
  dup?: boolean
  messageId?: number
  brokerId?: string
  brokerCounter?: number
  clientId?: string
}

/** The part of an Aedes client the persistence reads. */
export interface PersistenceClient {
  id: string
  brokerId?: string
}

/** The part of the Aedes broker the persistence uses (the abstract suite passes a stand-in). */
export interface PersistenceBroker {
  id: string
  on?(event: 'closed', listener: () => void): unknown
  publish?(packet: Packet, done: (err?: Error | null) => void): void
  authorizePublish?(client: null, packet: Packet, done: (err?: Error | null) => void): void
}

/** A subscription as SUBSCRIBE carries it (MQTT 5 options included). */
export interface Subscription {
  topic: string
  qos: number
  rh?: number
  rap?: boolean
  nl?: boolean
  subscriptionIdentifier?: number
}

/** A persistent session's subscription matched by topic. */
export interface ClientSubscription {
  clientId: string
  topic: string
  qos: number
  rh?: number
  rap?: boolean
  nl?: boolean
}

/** The async persistence interface Aedes 1.2 calls (aedes-persistence 11 `asyncPersistence.d.ts`). */
export interface AedesAsyncPersistence {
  readonly broker: PersistenceBroker | undefined
  setup(broker: PersistenceBroker): Promise<void>
  storeRetained(packet: Packet): Promise<void>
  createRetainedStream(pattern: string): Readable
  createRetainedStreamCombi(patterns: string[]): Readable
  addSubscriptions(client: PersistenceClient, subs: Subscription[]): Promise<void>
  removeSubscriptions(client: PersistenceClient, topics: string[]): Promise<void>
  subscriptionsByClient(client: PersistenceClient): Promise<Subscription[]>
  countOffline(): Promise<{ subsCount: number; clientsCount: number }>
  subscriptionsByTopic(topic: string): Promise<ClientSubscription[]>
  cleanSubscriptions(client: PersistenceClient): Promise<void>
  outgoingEnqueue(sub: { clientId: string }, packet: Packet): Promise<void>
  outgoingEnqueueCombi(subs: readonly { clientId: string }[], packet: Packet): Promise<void>
  outgoingUpdate(client: PersistenceClient, packet: Packet): Promise<void>
  outgoingClearMessageId(client: PersistenceClient, packet: Packet): Promise<Packet | undefined>
  outgoingStream(client: PersistenceClient): Readable
  incomingStorePacket(client: PersistenceClient, packet: Packet): Promise<void>
  incomingGetPacket(client: PersistenceClient, packet: Packet): Promise<Packet>
  incomingDelPacket(client: PersistenceClient, packet: Packet): Promise<void>
  cleanIncoming(client: PersistenceClient): Promise<void>
  putWill(client: PersistenceClient, packet: Packet): Promise<void>
  getWill(client: PersistenceClient): Promise<Packet | undefined>
  delWill(client: PersistenceClient): Promise<Packet | undefined>
  streamWill(brokers?: Record<string, unknown>): Readable
  getClientList(topic: string): Readable
  destroy(): Promise<void>
}
