import { describe, expect, it } from 'bun:test'
import { createAcl } from '../../src/broker/acl.ts'
import type { Identity } from '../../src/broker/auth.ts'
import { createBus } from '../../src/bus/bus.ts'
import { setDeviceAclRule } from '../../src/devices/acl-rules.ts'
import { deviceDirectory } from '../../src/devices/directory.ts'
import { silentLogger } from '../../src/log.ts'
import type { Client } from '../../src/mqtt/types.ts'
import { openStore } from '../../src/store/open.ts'
import { tempDir } from '../helpers/hub.ts'
import { addDevice } from './mqtt-fixture.ts'

/** A connected client as the ACL sees it: its id and nothing else it reads. */
const client = (id: string) => ({ id }) as Client

const ANONYMOUS: Identity = { kind: 'anonymous' }
const device = (deviceId: string): Identity => ({
  kind: 'device',
  credentialsAt: 0,
  deviceId,
  via: 'password',
})

/**
 * Clients whose rules expand alike share one resolved rule set (every anonymous client, every
 * connection of one device); these tests fail if one client's `%c` or `%u` leaks to another, or
 * if a reload or a changed device rule reaches only some of them.
 */
describe('broker ACL: rule sets shared between clients', () => {
  function setup(rules: Parameters<typeof createAcl>[0]['rules'], anonymousRules: typeof rules) {
    const dir = tempDir()
    const { db } = openStore(dir.path)
    const log = silentLogger()
    const identities = new Map<Client, Identity>()
    let t = 0
    const acl = createAcl({
      db,
      bus: createBus(log),
      log,
      identityOf: (c) => identities.get(c),
      rules,
      anonymousRules,
      disconnectOnDenied: false,
      refreshMs: 1000,
      devices: deviceDirectory,
      now: () => t,
    })
    const connect = (id: string, identity: Identity) => {
      const c = client(id)
      identities.set(c, identity)
      return c
    }
    const later = (ms: number) => {
      t += ms
    }
    const dispose = () => {
      db.close()
      dir[Symbol.dispose]()
    }
    return { acl, db, connect, later, [Symbol.dispose]: dispose }
  }

  it('keeps each anonymous client its own %c topics, and a reload changes every client', () => {
    using s = setup([], [{ pattern: 'clients/%c/#', access: 'readwrite' }])
    const a = s.connect('a', ANONYMOUS)
    const b = s.connect('b', ANONYMOUS)
    const check = () => ({
      aOwn: s.acl.canPublish(a, 'clients/a/x'),
      aOther: s.acl.canPublish(a, 'clients/b/x'),
      bOwn: s.acl.canPublish(b, 'clients/b/x'),
      bOther: s.acl.canPublish(b, 'clients/a/x'),
      aPublic: s.acl.canSubscribe(a, 'public/#'),
      bPublic: s.acl.canSubscribe(b, 'public/#'),
    })
    // own: each client's `clients/<id>/x`; other: the other's; public: `public/#`
    const own = { aOwn: true, aOther: false, bOwn: true, bOther: false, aPublic: false, bPublic: false }
    const publicOnly = {
      aOwn: false,
      aOther: false,
      bOwn: false,
      bOther: false,
      aPublic: true,
      bPublic: true,
    }
    expect(check()).toEqual(own)
    s.acl.setRules([], [{ pattern: 'public/#', access: 'read' }])
    expect(check()).toEqual(publicOnly)
    s.acl.setRules([], [{ pattern: 'clients/%c/#', access: 'readwrite' }])
    expect(check()).toEqual(own)
  })

  it('keeps each device its own %u topics; a changed device rule reaches all its connections', async () => {
    using s = setup([{ pattern: 'shared/%u/in', access: 'write' }], [])
    await addDevice(s.db, 'd1')
    await addDevice(s.db, 'd2')
    const d1a = s.connect('d1-a', device('d1'))
    const d1b = s.connect('d1-b', device('d1'))
    const d2 = s.connect('d2', device('d2'))
    const check = () => ({
      d1a: [s.acl.canPublish(d1a, 'shared/d1/in'), s.acl.canPublish(d1a, 'shared/d2/in')],
      d1b: [s.acl.canPublish(d1b, 'devices/d1/x'), s.acl.canPublish(d1b, 'devices/d2/x')],
      d2: [s.acl.canPublish(d2, 'shared/d2/in'), s.acl.canPublish(d2, 'shared/d1/in')],
      rooms: [d1a, d1b, d2].map((c) => s.acl.canSubscribe(c, 'rooms/kitchen')),
    })
    // Each device's own subtree and `shared/%u/in`, never the other's; rooms as the registry says.
    const expected = (rooms: boolean[]) => ({
      d1a: [true, false],
      d1b: [true, false],
      d2: [true, false],
      rooms,
    })
    expect(check()).toEqual(expected([false, false, false]))
    setDeviceAclRule(s.db, 'd1', { pattern: 'rooms/+', access: 'read' })
    s.later(1000)
    expect(check()).toEqual(expected([true, true, false]))
  })

  it('resolves %c per client even for connections of one device', () => {
    using s = setup([{ pattern: 'clients/%c/#', access: 'readwrite' }], [])
    const a = s.connect('a', device('d1'))
    const b = s.connect('b', device('d1'))
    expect([
      s.acl.canPublish(a, 'clients/a/x'),
      s.acl.canPublish(b, 'clients/b/x'),
      s.acl.canPublish(a, 'clients/b/x'),
      s.acl.canPublish(b, 'clients/a/x'),
    ]).toEqual([true, true, false, false])
  })
})
