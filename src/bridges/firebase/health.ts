import type { Bus } from '../../bus/bus.ts'
import type { EventMap } from '../../bus/events.ts'

export type FirebasePart = EventMap['firebase.status']['part']

/** What a part last saw of Firebase, for the bridge status (`GET /api/v1/bridges`). */
export interface HealthSnapshot {
  state: 'unknown' | 'up' | 'down'
  lastUpAt: number | null
  lastDownAt: number | null
  lastError: string | null
}

/** Whether a part of the bridge last reached Firebase; transitions become `firebase.status` events. */
export interface Health {
  up(): void
  down(error: string): void
  /** 1 up, 0 down, undefined not tried yet (for /metrics, which then has no sample). */
  value(): number | undefined
  snapshot(): HealthSnapshot
}

export function createHealth(bus: Bus, part: FirebasePart, now: () => number = Date.now): Health {
  const s: HealthSnapshot = { state: 'unknown', lastUpAt: null, lastDownAt: null, lastError: null }
  return {
    up() {
      s.lastUpAt = now()
      if (s.state === 'up') return
      s.state = 'up'
      bus.emit('firebase.status', { part, state: 'up' }, { subject: part })
    },
    down(error) {
      s.lastDownAt = now()
      s.lastError = error
      if (s.state === 'down') return
      s.state = 'down'
      bus.emit('firebase.status', { part, state: 'down', error }, { subject: part })
    },
    value: () => (s.state === 'up' ? 1 : s.state === 'down' ? 0 : undefined),
    snapshot: () => ({ ...s }),
  }
}
