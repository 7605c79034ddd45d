import { describe, expect, it } from 'bun:test'
import { diffConfig, withPathsFrom } from '../../src/config/diff.ts'
import { loadConfig } from '../../src/config/load.ts'

const config = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config

describe('config diff', () => {
  it('names changed key paths, taking a list as one setting', () => {
    const before = config({ mqtt: { port: 1883, acl: [{ pattern: 'a/#', access: 'read' }] } })
    const after = config({
      mqtt: { port: 1884, acl: [{ pattern: 'a/#', access: 'readwrite' }], tls: { cert: 'c.pem' } },
      log: { level: 'debug' },
    })
    expect(diffConfig(before, after)).toEqual(['log.level', 'mqtt.acl', 'mqtt.port', 'mqtt.tls.cert'])
    expect(diffConfig(before, structuredClone(before))).toEqual([])
  })

  it('keeps the old values of keys that wait for a restart', () => {
    const before = config({ mqtt: { port: 1883 }, http: { port: 8080 } })
    const after = config({ mqtt: { port: 1884, tls: { cert: 'c.pem' } }, http: { port: 9090 } })
    const running = withPathsFrom(after, before, ['mqtt.port', 'mqtt.tls.cert'])
    expect([running.mqtt.port, running.mqtt.tls.cert, running.http.port]).toEqual([1883, undefined, 9090])
    expect(diffConfig(running, after)).toEqual(['mqtt.port', 'mqtt.tls.cert'])
  })
})
