import { describe, expect, it } from 'bun:test'
import { diffConfig, withPathsFrom } from '../../src/config/diff.ts'
import { loadConfig } from '../../src/config/load.ts'

const config = (overrides: Record<string, unknown>) => loadConfig({ env: {}, overrides }).config

describe('config diff', () => {
  it('names changed key paths, taking a list as one setting', () => {
    const before = config({ mqtt: { port: 0, acl: [{ pattern: 'a/#', access: 'read' }] } })
    const after = config({
      mqtt: { port: 1, acl: [{ pattern: 'a/#', access: 'readwrite' }], tls: { cert: 'c.pem' } },
      log: { level: 'debug' },
    })
    expect(diffConfig(before, after)).toEqual(['log.level', 'mqtt.acl', 'mqtt.port', 'mqtt.tls.cert'])
    expect(diffConfig(before, structuredClone(before))).toEqual([])
  })

  it('keeps the old values of keys that wait for a restart', () => {
    const before = config({ mqtt: { port: 0 }, http: { port: 0 } })
    const after = config({ mqtt: { port: 1, tls: { cert: 'c.pem' } }, http: { port: 2 } })
    const running = withPathsFrom(after, before, ['mqtt.port', 'mqtt.tls.cert'])
    expect([running.mqtt.port, running.mqtt.tls.cert, running.http.port]).toEqual([0, undefined, 2])
    expect(diffConfig(running, after)).toEqual(['mqtt.port', 'mqtt.tls.cert'])
  })
})
