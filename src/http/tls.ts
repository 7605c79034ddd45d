import { readPem } from '../tls/pem.ts'

/**
 * `http.tls` as Bun.serve takes it: each value is PEM text or a path to a PEM file, as for
 * `mqtt.tls`. Undefined unless both are set, so the hub serves plain HTTP.
 */
export function httpTls(cfg: {
  cert?: string | undefined
  key?: string | undefined
}): { cert: string; key: string } | undefined {
  if (!cfg.cert || !cfg.key) return undefined
  return { cert: readPem(cfg.cert, 'http.tls.cert'), key: readPem(cfg.key, 'http.tls.key') }
}
