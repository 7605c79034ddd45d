import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type { Logger } from '../log.ts'
import type { Client } from '../mqtt/types.ts'
import type { Identity } from './auth.ts'
import type { CredentialCache } from './device-directory.ts'
import type { BrokerHandle, BrokerPlugin } from './hooks.ts'

const OWNER = 'device-access'
/** DISCONNECT reason 0x87 Not authorized (MQTT 5.0 §3.14.2.1): MQTT 5 clients hear why. */
const NOT_AUTHORIZED = 0x87
/** The device service's events after which a device's live connections must end. */
const REVOKING = ['device.disabled', 'device.removed', 'device.rotated'] as const

interface DeviceAccessOptions {
  db: Database
  bus: Bus
  log: Logger
  /** The hub's one verification cache: a revoked device pays for argon2id again. */
  credentials: Pick<CredentialCache, 'forget'>
  /**
   * Who the client authenticated as. A device's identity carries the `credentialsAt` read with
   * the hash it checked: read again after the (slow) verification, a rotation committed meanwhile
   * would be taken for the credentials the client proved, and the poll would never end it.
   */
  identityOf(client: Client): Identity | undefined
  /** Client ids of a device's live connections (presence). */
  clientsOf(deviceId: string): string[]
  /** How often to look for a commit by another process; default 250 ms. */
  pollMs?: number
}

interface DeviceAccess extends BrokerPlugin {
  /** Forgets the device's cached verification and ends its live connections (0x87). */
  revoke(deviceId: string): void
  /** Looks at once for devices disabled, removed or rotated by another process. */
  check(): void
  /** Whether the poll for other processes' commits runs: only while a device is connected. */
  readonly polling: boolean
}

/**
 * Ends a device's live connections as soon as its access ends, whoever ended it: the device
 * service's events in this process (API, console), and commits of another process (`hearth device
 * disable|remove|rotate` next to a running hub), both through `revoke`.
 *
 * Another process is noticed by polling `PRAGMA data_version`, which changes only when another
 * connection commits (https://sqlite.org/pragma.html#pragma_data_version): one cheap read per
 * interval, then only the rows of connected devices. This was chosen over a signal from the CLI
 * to the pid in `hearth.pid` because it needs nothing from the writer: it works for any writer
 * (an older CLI, a script with sqlite3), across users and containers sharing the data dir, with
 * no stale or reused pid to hit and no signal lost while the hub starts.
 */
export function createDeviceAccess(opts: DeviceAccessOptions): DeviceAccess {
  const { db, bus } = opts
  const log = opts.log.child('device-access')
  const pollMs = opts.pollMs ?? 250
  // The credentials each connected device authenticated against: a change means a rotation.
  const issued = new Map<string, number>()
  const stateOf = db.query<{ enabled: number; credentials_at: number }, [string]>(
    'SELECT enabled, credentials_at FROM devices WHERE id = ?',
  )
  const dataVersion = () => (db.query('PRAGMA data_version').get() as { data_version: number }).data_version
  let broker: BrokerHandle | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let seenVersion = 0

  const poll = () => {
    try {
      check()
    } catch (err) {
      log.warn('looking for device changes failed', { err })
    }
  }
  // The poll runs only while a device is connected: an idle hub (or one serving only users and
  // anonymous clients) is not woken four times a second for nothing.
  const watch = () => {
    if (issued.size > 0 && broker && !timer) timer = setInterval(poll, pollMs)
    else if (issued.size === 0 && timer) {
      clearInterval(timer)
      timer = undefined
    }
  }

  const revoke = (deviceId: string) => {
    opts.credentials.forget(deviceId)
    // A connection made after this one authenticated against the current credentials.
    issued.delete(deviceId)
    watch()
    for (const clientId of opts.clientsOf(deviceId))
      broker?.disconnect(clientId, NOT_AUTHORIZED, 'device access revoked')
  }

  const check = () => {
    // With no device connected there is nothing to end: an idle hub reads nothing. A commit seen
    // later only makes the next pass re-read the rows of devices connected since.
    if (issued.size === 0) return
    const version = dataVersion()
    if (version === seenVersion) return
    seenVersion = version
    for (const [deviceId, credentialsAt] of issued) {
      const row = stateOf.get(deviceId)
      if (row && row.enabled === 1 && row.credentials_at === credentialsAt) continue
      log.info('device access changed by another process: its connections end', { deviceId })
      revoke(deviceId)
    }
  }

  return {
    name: OWNER,
    revoke,
    check,
    get polling() {
      return timer !== undefined
    },
    connected(client) {
      const id = opts.identityOf(client)
      if (id?.kind !== 'device' || issued.has(id.deviceId)) return
      issued.set(id.deviceId, id.credentialsAt)
      watch()
    },
    disconnected(client) {
      const id = opts.identityOf(client)
      const deviceId = id?.kind === 'device' ? id.deviceId : undefined
      if (deviceId && opts.clientsOf(deviceId).length === 0) issued.delete(deviceId)
      watch()
    },
    attach(handle) {
      broker = handle
      seenVersion = dataVersion()
      for (const type of REVOKING)
        bus.on(OWNER, type, (event) => {
          if (event.subject) revoke(event.subject)
        })
      watch()
    },
    detach() {
      if (timer) clearInterval(timer)
      timer = undefined
      bus.off(OWNER)
      broker = undefined
      issued.clear()
    },
  }
}
