import { describe, expect, it } from 'bun:test'
import { createLogger } from '../src/log.ts'

describe('logger', () => {
  const at = () => new Date('2026-01-01T00:00:00Z')

  it('writes JSON lines with module, message and fields when not on a terminal', () => {
    const lines: string[] = []
    const log = createLogger({ level: 'info', isTTY: false, write: (l) => lines.push(l), now: at })
    log
      .child('broker')
      .child('auth')
      .info('client refused', { clientId: 'c1', err: new Error('nope') })
    const rec = JSON.parse(lines[0]!)
    expect(rec).toMatchObject({
      time: '2026-01-01T00:00:00.000Z',
      level: 'info',
      module: 'broker.auth',
      msg: 'client refused',
      clientId: 'c1',
    })
    expect(rec.err.message).toBe('nope')
  })

  it('changes the level of the whole tree, children made earlier included', () => {
    const lines: string[] = []
    const root = createLogger({ level: 'info', isTTY: false, write: (l) => lines.push(l), now: at })
    const child = root.child('rules')
    child.debug('hidden')
    root.setLevel('debug')
    child.debug('shown')
    child.setLevel('error')
    root.warn('hidden too')
    expect([lines.map((l) => JSON.parse(l).msg), root.level, child.enabled('warn')]).toEqual([
      ['shown'],
      'error',
      false,
    ])
  })

  it('writes readable lines on a terminal', () => {
    const lines: string[] = []
    createLogger({ level: 'info', isTTY: true, write: (l) => lines.push(l), now: at })
      .child('http')
      .warn('slow', { ms: 12 })
    expect(lines).toEqual(['00:00:00.000 WARN  [http] slow ms=12'])
  })

  it('drops messages below its level and does not build lazy messages it drops', () => {
    const lines: string[] = []
    const log = createLogger({ level: 'warn', isTTY: false, write: (l) => lines.push(l) })
    let built = 0
    log.debug(() => {
      built++
      return 'expensive'
    })
    log.info('no')
    log.error(() => 'yes')
    expect(built).toBe(0)
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['yes'])
    expect(log.enabled('debug')).toBe(false)
  })
})
