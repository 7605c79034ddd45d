/** One server-sent event: its `event` field (default `message`) and its data lines joined. */
interface SseEvent {
  event: string
  data: string
}

/**
 * An incremental `text/event-stream` parser
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
 * feed it the stream's bytes (or text) as they arrive; it returns the events each chunk completed.
 * Lines end in CRLF, LF or CR; a CRLF may arrive split across two chunks, and so may a character's
 * UTF-8 bytes.
 */
export function createSseParser(): { push(chunk: Uint8Array | string): SseEvent[] } {
  // The spec decodes the stream as UTF-8 and drops one leading byte-order mark.
  const decoder = new TextDecoder('utf-8')
  let buffer = ''
  // The last chunk ended in CR: a LF that opens the next one belongs to the same line ending.
  let afterCR = false
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
      let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
      if (afterCR && text !== '') {
        if (text.startsWith('\n')) text = text.slice(1)
        afterCR = false
      }
      buffer += text
      const out: SseEvent[] = []
      let start = 0
      for (;;) {
        const cr = buffer.indexOf('\r', start)
        const lf = buffer.indexOf('\n', start)
        const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf)
        if (end < 0) break
        line(buffer.slice(start, end), out)
        if (buffer[end] === '\r' && end + 1 === buffer.length) afterCR = true
        start = end + (buffer.startsWith('\r\n', end) ? 2 : 1)
      }
      buffer = buffer.slice(start)
      return out
    },
  }
}
