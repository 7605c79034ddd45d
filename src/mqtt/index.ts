// The engine's public surface: what a host (the hub's broker, a test, a benchmark) imports.
export type { Connection, Wire } from './connection.ts'
export { DEFAULT_LIMITS, type EngineLogger, type EngineOptions } from './core.ts'
export { type ConnectionInfo, createEngine, type MqttEngine } from './engine.ts'
export { createMemoryStore, type MemoryStore } from './memory-store.ts'
export { listenTcp, type MqttListener, type TcpListenOptions, type TlsOptions } from './transports/tcp.ts'
export { createMqttWebSocket, type MqttSocketData, type MqttWebSocket } from './transports/websocket.ts'
export * from './types.ts'
