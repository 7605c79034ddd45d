import type { Migration } from './index.ts'

export const devicePresets: Migration = {
  version: 14,
  name: 'devices: the preset a device was registered with',
  up(db) {
    // The preset's topic trees are ordinary rows of device_acl; the name says which tool's
    // connection settings to show again (after a rotate) and where the rules came from.
    db.run('ALTER TABLE devices ADD COLUMN preset TEXT')
  },
}
