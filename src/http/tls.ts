import { readFileSync } from 'node:fs'

/**
 * `http.tls` as Bun.serve takes it: each value is PEM text or a path to a PEM file, as for
 * `mqtt.tls`. Undefined unless both are set, so the hub serves plain HTTP.
 */
export function httpTls(cfg: {
  cert?: string | undefined
  key?: string | undefined
}): { cert: string; key: string } | undefined {
  if (!cfg.cert || !cfg.key) return undefined
  return { cert: pem(cfg.cert, 'http.tls.cert'), key: pem(cfg.key, 'http.tls.key') }
}

function pem(value: string, key: string): string {
  if (value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value, 'utf8')
  } catch (err) {
    throw new Error(`${key}: cannot read ${value}: ${(err as Error).message}`, { cause: err })
  }
}
