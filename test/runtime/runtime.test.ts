import { describe, expect, it } from 'bun:test'
import { createBus } from '../../src/bus/bus.ts'
import { silentLogger } from '../../src/log.ts'
import type { HubEvent } from '../../src/protocol.ts'
import { backoffDelay, createRuntime, DEFAULT_BACKOFF } from '../../src/runtime/runtime.ts'
import type { Service, ServiceContext } from '../../src/runtime/service.ts'
import { waitFor } from '../helpers/wait.ts'

function recorder() {
  const calls: string[] = []
  const make = (name: string, opts: { failStop?: boolean } = {}): Service => ({
    name,
    start: () => {
      calls.push(`start ${name}`)
    },
    stop: () => {
      calls.push(`stop ${name}`)
      if (opts.failStop) throw new Error(`${name} cannot stop`)
    },
  })
  return { calls, make }
}

describe('runtime', () => {
  it('starts services in order and stops them in reverse, even when one stop fails', async () => {
    const { calls, make } = recorder()
    const rt = createRuntime({
      log: silentLogger(),
      bus: createBus(silentLogger()),
      entries: [make('a'), make('b', { failStop: true }), make('c')],
      onFatal: () => {},
    })
    await rt.start()
    await rt.stop()
    await rt.stop()
    expect(calls).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])
    expect(rt.signal.aborted).toBe(true)
  })

  it('reports a failing unsupervised service as fatal', async () => {
    let ctx: ServiceContext | undefined
    const fatal: string[] = []
    const rt = createRuntime({
      log: silentLogger(),
      bus: createBus(silentLogger()),
      entries: [
        {
          name: 'listener',
          start: (c) => {
            ctx = c
          },
          stop: () => {},
        },
      ],
      onFatal: (_err, name) => fatal.push(name),
    })
    await rt.start()
    ctx!.fail(new Error('socket died'))
    expect(fatal).toEqual(['listener'])
    await rt.stop()
  })

  it('doubles the back-off from 1 s up to 5 minutes', () => {
    expect([1, 2, 3, 4, 9, 10, 20].map((n) => backoffDelay(n, DEFAULT_BACKOFF))).toEqual([
      1000, 2000, 4000, 8000, 256_000, 300_000, 300_000,
    ])
  })

  it('restarts a supervised service that fails, with growing back-off, and emits failed/restarted', async () => {
    const bus = createBus(silentLogger())
    const events: HubEvent[] = []
    bus.onAny('t', (e) => events.push(e))
    let starts = 0
    let stops = 0
    let ctx: ServiceContext | undefined
    const flaky: Service = {
      name: 'bridge',
      start: (c) => {
        starts++
        ctx = c
        // The first restart attempt fails at start; later ones succeed.
        if (starts === 2) throw new Error('still down')
      },
      stop: () => {
        stops++
      },
    }
    const fatal: string[] = []
    const rt = createRuntime({
      log: silentLogger(),
      bus,
      entries: [{ service: flaky, restart: true }],
      onFatal: (_e, n) => fatal.push(n),
      backoff: { initialMs: 5, maxMs: 40, stableMs: 60_000 },
    })
    await rt.start()
    ctx!.fail(new Error('crashed'))
    await waitFor(() => events.some((e) => e.type === 'service.restarted'))
    const seen = events.map((e) => [
      e.type,
      (e.detail as { attempt: number }).attempt,
      (e.detail as { retryInMs?: number }).retryInMs,
    ])
    expect(seen).toEqual([
      ['service.failed', 1, 5],
      ['service.failed', 2, 10],
      ['service.restarted', 2, undefined],
    ])
    expect(starts).toBe(3)
    expect(stops).toBe(2)
    expect(fatal).toEqual([])
    await rt.stop()
    expect(stops).toBe(3)
  })

  it('does not restart a supervised service after the runtime stopped', async () => {
    let ctx: ServiceContext | undefined
    let starts = 0
    const rt = createRuntime({
      log: silentLogger(),
      bus: createBus(silentLogger()),
      entries: [
        {
          service: {
            name: 's',
            start: (c) => {
              ctx = c
              starts++
            },
            stop: () => {},
          },
          restart: true,
        },
      ],
      onFatal: () => {},
      backoff: { initialMs: 1, maxMs: 1, stableMs: 1 },
    })
    await rt.start()
    await rt.stop()
    ctx!.fail(new Error('late'))
    expect(starts).toBe(1)
  })
})
