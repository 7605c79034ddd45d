import { describe, expect, it } from 'bun:test'
import { createBus } from '../../src/bus/bus.ts'
import { createLogger } from '../../src/log.ts'

function capturingLog() {
  const lines: string[] = []
  return { lines, log: createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) }) }
}

describe('bus', () => {
  it('delivers an event to the listeners of its type and to catch-all listeners', () => {
    const { log } = capturingLog()
    const bus = createBus(log, () => 42)
    const seen: string[] = []
    bus.on('a', 'alert', (e) => seen.push(`a:${e.detail.message}`))
    bus.on('b', 'hub.stopping', () => seen.push('b'))
    bus.onAny('c', (e) => seen.push(`c:${e.type}`))
    const event = bus.emit('alert', { source: 's', message: 'm', severity: 'info' }, { subject: 'x' })
    expect(seen).toEqual(['a:m', 'c:alert'])
    expect(event).toEqual({
      type: 'alert',
      ts: 42,
      subject: 'x',
      detail: { source: 's', message: 'm', severity: 'info' },
    })
  })

  it('isolates a throwing listener: it is logged and the others still run', () => {
    const { lines, log } = capturingLog()
    const bus = createBus(log)
    const seen: string[] = []
    bus.on('bad', 'alert', () => {
      throw new Error('boom')
    })
    bus.on('good', 'alert', () => seen.push('good'))
    bus.emit('alert', { source: 's', message: 'm', severity: 'info' })
    expect(seen).toEqual(['good'])
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', msg: 'bus listener threw', owner: 'bad' })
  })

  it('removes every listener of an owner with off(owner)', () => {
    const bus = createBus(capturingLog().log)
    let n = 0
    bus.on('svc', 'alert', () => n++)
    bus.onAny('svc', () => n++)
    bus.on('other', 'alert', () => n++)
    bus.off('svc')
    expect(bus.listenerCount()).toBe(1)
    bus.emit('alert', { source: 's', message: 'm', severity: 'info' })
    expect(n).toBe(1)
  })
})
