import { describe, expect, it } from 'bun:test'
import { EventEmitter } from 'node:events'
import { listenForReload, listenForStop } from '../../src/cli/signals.ts'

function fakeProcess() {
  const emitter = new EventEmitter()
  const exits: number[] = []
  return {
    emitter,
    exits,
    proc: { on: (s: string, fn: () => void) => emitter.on(s, fn), exit: (c: number) => void exits.push(c) },
  }
}

describe('signals', () => {
  it('asks for a graceful stop on the first signal and exits at once with 130 on the second', async () => {
    const p = fakeProcess()
    const stop = listenForStop(p.proc)
    p.emitter.emit('SIGTERM')
    expect(await stop).toBe('SIGTERM')
    expect(p.exits).toEqual([])
    p.emitter.emit('SIGINT')
    expect(p.exits).toEqual([130])
  })

  it('turns SIGHUP into reload requests that never exit, keeping one that came before any listener', () => {
    const p = fakeProcess()
    const onReload = listenForReload(p.proc)
    p.emitter.emit('SIGHUP')
    const heard: string[] = []
    const stop = onReload(() => heard.push('reload'))
    expect(heard).toEqual(['reload'])
    p.emitter.emit('SIGHUP')
    p.emitter.emit('SIGHUP')
    stop()
    p.emitter.emit('SIGHUP')
    expect([heard.length, p.exits]).toEqual([3, []])
  })
})
