/** One server-sent event: its `event` field (default `message`) and its data lines joined. */
export interface SseEvent {
  event: string
  data: string
}

/**
 * An incremental `text/event-stream` parser (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * feed it chunks as they arrive; it returns the events each chunk completed.
 */
export function createSseParser(): { push(chunk: string): SseEvent[] } {
  let buffer = ''
  let event = ''
  let data: string[] = []

  const line = (text: string, out: SseEvent[]) => {
    if (text === '') {
      if (data.length) out.push({ event: event || 'message', data: data.join('\n') })
      event = ''
      data = []
      return
    }
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }

  return {
    push(chunk) {
      buffer += chunk
      const out: SseEvent[] = []
      for (;;) {
        const nl = buffer.search(/\r\n|\r|\n/)
        if (nl < 0) break
        const len = buffer.startsWith('\r\n', nl) ? 2 : 1
        line(buffer.slice(0, nl), out)
        buffer = buffer.slice(nl + len)
      }
      return out
    },
  }
}
