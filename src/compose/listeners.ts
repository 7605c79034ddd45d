import type { Broker } from '../broker/broker.ts'
import {
  createTcpListener,
  createTlsListener,
  type TcpListener,
  type TlsListener,
} from '../broker/tcp-listener.ts'
import type { Logger } from '../log.ts'
import type { HubBasics, HubModule } from './module.ts'
import type { ReloadStep } from './reload.ts'

export interface ListenersModule extends HubModule {
  tcp: TcpListener
  /** Undefined when no certificate is configured. */
  tls: TlsListener | undefined
}

/**
 * MQTT over TCP, and over TLS when a certificate is configured: started after every module that
 * consumes messages. The WebSocket listener rides on the HTTP server.
 */
export function composeListeners({
  config,
  log,
  broker,
}: Pick<HubBasics, 'config'> & { log: Logger; broker: Broker }): ListenersModule {
  const m = config.mqtt
  const tcp = createTcpListener({ broker, log, host: m.host, port: m.port })
  const { cert, key } = m.tls
  const tls =
    cert && key
      ? createTlsListener({
          broker,
          log,
          host: m.host,
          port: m.tls.port,
          cert,
          key,
          ca: m.tls.ca,
          requireClientCert: m.tls.requireClientCert,
        })
      : undefined
  return {
    name: 'mqtt-listeners',
    tcp,
    tls,
    services: tls ? [tcp, tls] : [tcp],
    reload: tls ? [tlsReloadStep(tls)] : [],
  }
}

/**
 * The certificate files are read on every reload: a renewed certificate usually keeps its path.
 * Turning TLS off (or on) changes the listeners, which needs a restart.
 */
function tlsReloadStep(tls: TlsListener): ReloadStep {
  return {
    keys: ['mqtt.tls.cert', 'mqtt.tls.key', 'mqtt.tls.ca'],
    always: true,
    canFail: true,
    apply(next, changed) {
      const { cert, key, ca } = next.mqtt.tls
      if (!cert || !key) return { needsRestart: changed }
      const renewed = tls.reloadCertificate({ cert, key, ca })
      return renewed && !changed.length ? { applied: ['mqtt.tls.cert'] } : undefined
    },
  }
}
