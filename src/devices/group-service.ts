import type { Database } from 'bun:sqlite'
import type { Bus } from '../bus/bus.ts'
import type {
  GroupAddResult,
  GroupCreateResult,
  GroupDeleteResult,
  GroupSubtractResult,
} from '../bus/payloads.ts'
import {
  addToGroup,
  createGroup,
  deleteGroup,
  groupMembers,
  partitionDevices,
  subtractFromGroup,
} from './groups.ts'

interface GroupServiceOptions {
  db: Database
  bus: Bus
  /**
   * Membership changed: the ACL re-reads which `groups/<groupId>/#` each device may read; devices
   * that left a group lose their subscriptions to it.
   */
  onMembershipChange(left: readonly string[]): void
  now?: () => number
}

/**
 * The four group operations of source (c) as REST and the console share them: each result is
 * also an event, so every console sees it. Undefined: there is no such group.
 */
export interface GroupService {
  create(input: {
    name: string
    description?: string | null | undefined
    devices?: readonly string[] | undefined
  }): GroupCreateResult
  add(groupId: string, devices: readonly string[]): GroupAddResult | undefined
  subtract(groupId: string, devices: readonly string[]): GroupSubtractResult | undefined
  remove(groupId: string): GroupDeleteResult | undefined
}

export function createGroupService(opts: GroupServiceOptions): GroupService {
  const { db, bus } = opts
  const now = opts.now ?? Date.now
  return {
    create(input) {
      const result = createGroup(db, input, now())
      if (result.deviceSize) opts.onMembershipChange([])
      const detail = { ...result, name: input.name, description: input.description ?? null }
      bus.emit('group.created', detail, { subject: result.groupId })
      return result
    },
    add(groupId, devices) {
      const result = addToGroup(db, groupId, devices, now())
      if (!result) return undefined
      if (result.addedDeviceSize) opts.onMembershipChange([])
      bus.emit('group.added', result, { subject: groupId })
      return result
    },
    subtract(groupId, devices) {
      const result = subtractFromGroup(db, groupId, devices, now())
      if (!result) return undefined
      if (result.removedDeviceSize) opts.onMembershipChange(partitionDevices(db, devices).known)
      bus.emit('group.subtracted', result, { subject: groupId })
      return result
    },
    remove(groupId) {
      const members = groupMembers(db, groupId)
      if (!deleteGroup(db, groupId)) return undefined
      opts.onMembershipChange(members)
      const result = { groupId }
      bus.emit('group.deleted', result, { subject: groupId })
      return result
    },
  }
}
