// A bare engine on port 0 (TCP and WebSocket) with permissive hooks, for the engine's tests.
import type { Server } from 'bun'
import {
  createEngine,
  createMemoryStore,
  createMqttWebSocket,
  type EngineHooks,
  type EngineLimits,
  type EngineLogger,
  listenTcp,
  type MemoryStore,
  type MqttEngine,
  type MqttListener,
  type MqttSocketData,
} from '../../src/mqtt/index.ts'

export interface TestEngine extends AsyncDisposable {
  engine: MqttEngine
  store: MemoryStore
  port: number
  wsPort: number
  url: string
  wsUrl: string
  /** Log lines at error level, to assert a failure was logged. */
  errors: string[]
}

export interface TestEngineOptions {
  hooks?: EngineHooks
  limits?: Partial<EngineLimits>
  store?: MemoryStore
  now?: () => number
  responseInformation?: (client: { id: string }) => string | undefined
}

export async function startEngine(opts: TestEngineOptions = {}): Promise<TestEngine> {
  const errors: string[] = []
  const log: EngineLogger = {
    debug() {},
    info() {},
    warn() {},
    error: (msg) => {
      errors.push(typeof msg === 'function' ? msg() : msg)
    },
  }
  const store = opts.store ?? createMemoryStore()
  const engine = createEngine({
    store,
    log,
    ...(opts.hooks && { hooks: opts.hooks }),
    ...(opts.limits && { limits: opts.limits }),
    ...(opts.now && { now: opts.now }),
    ...(opts.responseInformation && { responseInformation: opts.responseInformation }),
  })
  await engine.start()
  const tcp: MqttListener = listenTcp(engine, { port: 0 })
  const ws = createMqttWebSocket(engine)
  const http: Server<MqttSocketData> = Bun.serve<MqttSocketData>({
    hostname: '127.0.0.1',
    port: 0,
    fetch(req, server) {
      if (new URL(req.url).pathname === '/mqtt' && ws.upgrade(req, server)) return undefined
      return new Response('not found', { status: 404 })
    },
    websocket: ws.websocket,
  })
  return {
    engine,
    store,
    port: tcp.port,
    wsPort: http.port!,
    url: `mqtt://127.0.0.1:${tcp.port}`,
    wsUrl: `ws://127.0.0.1:${http.port}/mqtt`,
    errors,
    async [Symbol.asyncDispose]() {
      await engine.stop()
      tcp.stop(true)
      await http.stop(true)
    },
  }
}
