import { describe, expect, it } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { z } from 'zod'
import type { ConsoleFrame } from '../../../src/protocol.ts'
import { createSession, deleteUserSessions } from '../../../src/store/sessions.ts'
import { createUser, findUser } from '../../../src/store/users.ts'
import { startTestHub, type TestHub } from '../../helpers/hub.ts'
import { waitFor } from '../../helpers/wait.ts'

function adminCookie(t: TestHub): string {
  return sessionOf(t, 'admin').cookie
}

/** A console session of `username`: the cookie header and the CSRF token its changes carry. */
function sessionOf(t: TestHub, username: string, ttlMs = 60_000, now = Date.now()) {
  const user = findUser(t.hub.db, username)!
  const s = createSession(t.hub.db, user.id, ttlMs, now)
  return { cookie: `hearth_session=${s.token}`, csrf: s.csrfToken }
}

/** A browser-like console: a real WebSocket with the session cookie, collecting frames. */
async function openConsole(t: TestHub, headers: Record<string, string> = {}) {
  const frames: ConsoleFrame[] = []
  const ws = new WebSocket(`ws://127.0.0.1:${t.httpPort}/ws`, { headers } as unknown as string[])
  const closed = new Promise<{ code: number }>((resolve) =>
    ws.addEventListener('close', (e) => resolve({ code: e.code })),
  )
  ws.addEventListener('message', (e) => frames.push(JSON.parse(String(e.data))))
  return { ws, frames, closed }
}

/** A WebSocket upgrade of an admin's session sent with this Origin header. */
function upgradeFrom(t: TestHub, origin: string) {
  return fetch(`${t.url}/ws`, {
    headers: {
      upgrade: 'websocket',
      connection: 'upgrade',
      origin,
      cookie: adminCookie(t),
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
    },
  })
}

describe('console channel /ws', () => {
  it('closes a connection without a session with code 4401', async () => {
    await using t = await startTestHub()
    const c = await openConsole(t)
    expect((await c.closed).code).toBe(4401)
    const bad = await openConsole(t, { cookie: 'hearth_session=forged' })
    expect((await bad.closed).code).toBe(4401)
  })

  it('refuses a connection from another origin', async () => {
    await using t = await startTestHub()
    expect((await upgradeFrom(t, 'http://evil.example')).status).toBe(403)
  })

  it('sends a snapshot first, then every event as it happens', async () => {
    await using t = await startTestHub()
    t.hub.bus.emit('alert', { source: 'test', message: 'before connect', severity: 'info' })
    const c = await openConsole(t, { cookie: adminCookie(t) })
    await waitFor(() => c.frames.length > 0)
    const first = c.frames[0]!
    expect(first.type).toBe('snapshot')
    const events = (first as { data: { events: Array<{ detail: { message?: string } }> } }).data.events
    expect(events.some((e) => e.detail.message === 'before connect')).toBe(true)
    t.hub.bus.emit('alert', { source: 'test', message: 'live', severity: 'warning' }, { subject: 'x' })
    const live = await waitFor(() => c.frames.find((f) => f.type === 'event'))
    expect(live).toMatchObject({
      type: 'event',
      event: { type: 'alert', subject: 'x', detail: { message: 'live' } },
    })
    c.ws.close()
  })

  it('answers requests in the {id, ok} envelope, with codes for unknown actions and bad bodies', async () => {
    await using t = await startTestHub()
    t.hub.console.register('echo', {
      scope: 'write',
      body: z.strictObject({ text: z.string() }),
      run: (b) => ({ echoed: b.text }),
    })
    const c = await openConsole(t, { cookie: adminCookie(t) })
    await waitFor(() => c.ws.readyState === WebSocket.OPEN)
    c.ws.send(JSON.stringify({ id: 1, action: 'echo', body: { text: 'hi' } }))
    c.ws.send(JSON.stringify({ id: 'b', action: 'nope' }))
    c.ws.send(JSON.stringify({ id: 3, action: 'echo', body: { text: 5 } }))
    c.ws.send('not json')
    const replies = await waitFor(() => {
      const r = c.frames.filter((f) => f.type === 'reply')
      return r.length === 4 ? r : undefined
    })
    expect(replies).toEqual([
      { type: 'reply', id: 1, ok: true, data: { echoed: 'hi' } },
      { type: 'reply', id: 'b', ok: false, code: 40403, error: 'no console action nope' },
      expect.objectContaining({ type: 'reply', id: 3, ok: false, code: 40002 }),
      expect.objectContaining({ type: 'reply', id: 0, ok: false, code: 40001 }),
    ])
    c.ws.close()
  })

  it('drops the oldest frames for a console that does not read, and tells it how many', async () => {
    await using t = await startTestHub()
    const socket = await rawConsole(t, adminCookie(t))
    socket.pause()
    await waitFor(() => t.hub.console.count() === 1, { what: 'the console to be accepted' })
    const big = 'x'.repeat(4096)
    // Far more than the kernel and Bun buffer plus the 1000-frame queue can hold.
    for (let i = 0; i < 6000; i++)
      t.hub.bus.emit('alert', { source: 'flood', message: `${i} ${big}`, severity: 'info' })
    const frames = readFrames(socket)
    socket.resume()
    const dropped = await waitFor(() => frames.find((f) => f.type === 'dropped'), { timeoutMs: 20_000 })
    expect((dropped as { count: number }).count).toBeGreaterThan(0)
    // The newest event always survives: only the oldest are dropped.
    await waitFor(() =>
      frames.some(
        (f) => f.type === 'event' && (f.event.detail as { message: string }).message.startsWith('5999 '),
      ),
    )
    const received = frames.filter((f) => f.type === 'event').length
    expect(received + (dropped as { count: number }).count).toBeLessThanOrEqual(6000)
    socket.destroy()
  }, 30_000)
})

describe('console channel sessions', () => {
  /** Registers `touch` (write scope), which counts the times it ran. */
  const counted = (t: TestHub) => {
    const runs = { n: 0 }
    t.hub.console.register('touch', {
      scope: 'write',
      body: z.strictObject({}),
      run: () => ++runs.n,
    })
    return runs
  }
  const ready = async (c: Awaited<ReturnType<typeof openConsole>>) =>
    waitFor(() => c.frames.some((f) => f.type === 'snapshot'), { what: 'the snapshot' })
  const api = (
    t: TestHub,
    path: string,
    method: string,
    who: { cookie: string; csrf: string },
    body?: unknown,
  ) =>
    fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })

  it('refuses an opaque Origin (null) with 403 and its code, not a 500', async () => {
    await using t = await startTestHub()
    const res = await upgradeFrom(t, 'null')
    expect(res.status).toBe(403)
    expect(((await res.json()) as { code: number }).code).toBe(40301)
  })

  it('closes the console with 4401 when its session logs out, and runs nothing after', async () => {
    await using t = await startTestHub()
    const runs = counted(t)
    const me = sessionOf(t, 'admin')
    const c = await openConsole(t, { cookie: me.cookie })
    await ready(c)
    expect((await api(t, '/auth/logout', 'POST', me)).status).toBe(204)
    expect((await c.closed).code).toBe(4401)
    t.hub.bus.emit('alert', { source: 'test', message: 'after logout', severity: 'info' })
    expect(c.frames.filter((f) => f.type === 'event' && f.event.type === 'alert')).toEqual([])
    expect(runs.n).toBe(0)
  })

  it('closes a demoted user’s console with 4403; reconnected, it may only read', async () => {
    await using t = await startTestHub()
    const runs = counted(t)
    await createUser(t.hub.db, 'bob', 'bob-password-1', 'admin')
    const bob = sessionOf(t, 'bob')
    const c = await openConsole(t, { cookie: bob.cookie })
    await ready(c)
    c.ws.send(JSON.stringify({ id: 1, action: 'touch' }))
    await waitFor(() => runs.n === 1)
    const res = await api(t, '/users/bob', 'PATCH', sessionOf(t, 'admin'), { role: 'viewer' })
    expect(res.status).toBe(200)
    expect((await c.closed).code).toBe(4403)

    const again = await openConsole(t, { cookie: bob.cookie })
    await ready(again)
    again.ws.send(JSON.stringify({ id: 2, action: 'touch' }))
    const reply = await waitFor(() => again.frames.find((f) => f.type === 'reply'))
    expect(reply).toMatchObject({ id: 2, ok: false, code: 40301 })
    expect(runs.n).toBe(1)
    again.ws.close()
  })

  it('closes a removed user’s console with 4401', async () => {
    await using t = await startTestHub()
    await createUser(t.hub.db, 'carol', 'carol-password-1', 'admin')
    const c = await openConsole(t, { cookie: sessionOf(t, 'carol').cookie })
    await ready(c)
    expect((await api(t, '/users/carol', 'DELETE', sessionOf(t, 'admin'))).status).toBe(204)
    expect((await c.closed).code).toBe(4401)
  })

  it('closes the console once its session expires, before the next event reaches it', async () => {
    let clock = Date.now()
    await using t = await startTestHub({}, { now: () => clock })
    const c = await openConsole(t, { cookie: sessionOf(t, 'admin', 60_000, clock).cookie })
    await ready(c)
    clock += 60_000
    t.hub.bus.emit('alert', { source: 'test', message: 'after expiry', severity: 'info' })
    expect((await c.closed).code).toBe(4401)
    expect(c.frames.filter((f) => f.type === 'event' && f.event.type === 'alert')).toEqual([])
  })

  it('checks the session before every action: one ended elsewhere (the CLI) runs nothing', async () => {
    await using t = await startTestHub()
    const runs = counted(t)
    const c = await openConsole(t, { cookie: sessionOf(t, 'admin').cookie })
    await ready(c)
    // `hearth user passwd` in another process ends the sessions without a bus event.
    deleteUserSessions(t.hub.db, findUser(t.hub.db, 'admin')!.id)
    c.ws.send(JSON.stringify({ id: 1, action: 'touch' }))
    expect((await c.closed).code).toBe(4401)
    expect(runs.n).toBe(0)
  })
})

/** A WebSocket client written against the socket, so the test controls when it reads. */
async function rawConsole(t: TestHub, cookie: string): Promise<Socket> {
  const socket = connect(t.httpPort, '127.0.0.1')
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${t.httpPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: ${cookie}\r\n\r\n`,
  )
  return socket
}

/** Parses unmasked server frames (RFC 6455 §5.2) from the socket as they arrive. */
function readFrames(socket: Socket): ConsoleFrame[] {
  const frames: ConsoleFrame[] = []
  let buf = Buffer.alloc(0)
  let headerDone = false
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk])
    if (!headerDone) {
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      buf = buf.subarray(end + 4)
      headerDone = true
    }
    for (;;) {
      if (buf.length < 2) return
      const opcode = buf[0]! & 0x0f
      let len = buf[1]! & 0x7f
      let offset = 2
      if (len === 126) {
        if (buf.length < 4) return
        len = buf.readUInt16BE(2)
        offset = 4
      } else if (len === 127) {
        if (buf.length < 10) return
        len = Number(buf.readBigUInt64BE(2))
        offset = 10
      }
      if (buf.length < offset + len) return
      const payload = buf.subarray(offset, offset + len)
      buf = buf.subarray(offset + len)
      if (opcode === 1) frames.push(JSON.parse(payload.toString('utf8')))
    }
  })
  return frames
}
