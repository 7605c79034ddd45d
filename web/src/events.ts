import type { AnyHubEvent } from '../../src/protocol.ts'

/** A string field of an event's detail, whatever its type (`topic`, `message` …), if it has one. */
export function detailText(e: AnyHubEvent, key: string): string | undefined {
  const detail: object | null = typeof e.detail === 'object' ? e.detail : null
  if (!detail || !(key in detail)) return undefined
  const value: unknown = Reflect.get(detail, key)
  return typeof value === 'string' ? value : undefined
}

/** The device an event is about: every Hearth event names it `device` (CHANGELOG, Unreleased). */
export const deviceOf = (e: AnyHubEvent): string | undefined => detailText(e, 'device')
