import type { Bus } from '../bus/bus.ts'
import type { ActionExecutor } from './runner.ts'
import type { EventAction } from './schema.ts'
import { render } from './template.ts'

/** `event`: a line in the event log and the live console, with the source that caused it. */
export function createEventExecutor(bus: Bus): ActionExecutor<EventAction> {
  return (action, ctx) => {
    const { text, missing } = render(action.message, ctx.data ?? {})
    const event = bus.emit(
      'action.event',
      { source: ctx.source, message: text, level: action.level },
      { subject: ctx.source },
    )
    return {
      message: text,
      ...(event.id === undefined ? {} : { eventId: event.id }),
      ...(missing.length ? { missing } : {}),
    }
  }
}
