import { describe, expect, it } from 'bun:test'
import { EventEmitter } from 'node:events'
import { listenForStop } from '../../src/cli/signals.ts'

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
})
