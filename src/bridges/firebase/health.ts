import type { Bus } from '../../bus/bus.ts'
import type { EventMap } from '../../protocol.ts'

export type FirebasePart = EventMap['firebase.status']['part']

/** Whether a part of the bridge last reached Firebase; transitions become `firebase.status` events. */
export interface Health {
  up(): void
  down(error: string): void
  /** 1 up, 0 down, -1 not tried yet (for /metrics). */
  value(): number
}

export function createHealth(bus: Bus, part: FirebasePart): Health {
  let state: 'unknown' | 'up' | 'down' = 'unknown'
  return {
    up() {
      if (state === 'up') return
      state = 'up'
      bus.emit('firebase.status', { part, state: 'up' }, { subject: part })
    },
    down(error) {
      if (state === 'down') return
      state = 'down'
      bus.emit('firebase.status', { part, state: 'down', error }, { subject: part })
    },
    value: () => (state === 'up' ? 1 : state === 'down' ? 0 : -1),
  }
}
