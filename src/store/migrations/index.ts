import type { Database } from 'bun:sqlite'
import { core } from './001-core.ts'
import { mqtt } from './002-mqtt.ts'
import { devices } from './003-devices.ts'
import { auth } from './004-auth.ts'
import { hooksOutbox } from './005-hooks-outbox.ts'
import { schedules } from './006-schedules.ts'
import { telemetry } from './007-telemetry.ts'
import { rules } from './008-rules.ts'
import { groupsMessages } from './009-groups-messages.ts'
import { push } from './010-push.ts'
import { firebase } from './011-firebase.ts'
import { deviceTokens } from './012-device-tokens.ts'
import { outboxIds } from './013-outbox-ids.ts'
import { devicePresets } from './014-device-presets.ts'
import { brokerStore } from './015-broker-store.ts'
import { aedesUpgrade } from './016-aedes-upgrade.ts'

/** One schema step. `up` runs inside a transaction; steps never change once released. */
export interface Migration {
  version: number
  name: string
  up(db: Database): void
  /** Tables the step removes on purpose, after carrying their rows elsewhere. */
  drops?: readonly string[]
}

/** Every migration, in version order. The last version is the schema this build writes. */
export const MIGRATIONS: readonly Migration[] = [
  core,
  mqtt,
  devices,
  auth,
  hooksOutbox,
  schedules,
  telemetry,
  rules,
  groupsMessages,
  push,
  firebase,
  deviceTokens,
  outboxIds,
  devicePresets,
  brokerStore,
  aedesUpgrade,
].sort((a, b) => a.version - b.version)

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version
