import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { cli } from '../helpers/cli.ts'
import { startTestHub, tempDir } from '../helpers/hub.ts'

describe('hearth token', () => {
  it('creates a token next to a running hub that the API then accepts, and revokes it', async () => {
    await using t = await startTestHub()
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.toml'), `dataDir = ${JSON.stringify(t.dataDir)}\n`)
    const created = await cli(['token', 'create', '--name', 'prometheus', '--scope', 'read', '--json'], {
      cwd: dir.path,
    })
    expect(created.code).toBe(0)
    const { id, secret, scope } = JSON.parse(created.out) as { id: string; secret: string; scope: string }
    expect(scope).toBe('read')
    expect(secret).toStartWith('hth_')
    const me = await fetch(`${t.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${secret}` } })
    expect(await me.json()).toMatchObject({ principal: { kind: 'token', id, scope: 'read' } })

    const listed = await cli(['token', 'list'], { cwd: dir.path })
    expect(listed.out).toContain(id)
    expect(listed.out).not.toContain(secret)

    expect((await cli(['token', 'revoke', id], { cwd: dir.path })).code).toBe(0)
    const after = await fetch(`${t.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${secret}` } })
    expect(after.status).toBe(401)
    expect((await cli(['token', 'revoke', id], { cwd: dir.path })).code).toBe(1)
  })

  it('creates a device-scoped token that posts only that device readings', async () => {
    await using t = await startTestHub()
    using dir = tempDir()
    writeFileSync(join(dir.path, 'hearth.toml'), `dataDir = ${JSON.stringify(t.dataDir)}\n`)
    expect((await cli(['token', 'create', '--name', 'fw', '--device', 'pi'], { cwd: dir.path })).code).toBe(1)
    expect((await cli(['device', 'add', 'pi'], { cwd: dir.path })).code).toBe(0)
    const created = await cli(['token', 'create', '--name', 'fw', '--device', 'pi', '--json'], {
      cwd: dir.path,
    })
    expect(created.code).toBe(0)
    const { secret, device } = JSON.parse(created.out) as { secret: string; device: string }
    expect(device).toBe('pi')
    const res = await fetch(`${t.url}/ingest/pi`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ co2: 412 }),
    })
    expect(res.status).toBe(202)
  })

  it('prints the secret once in plain output', async () => {
    using dir = tempDir()
    const res = await cli(['token', 'create', '--name', 'ci', '--scope', 'write'], { cwd: dir.path })
    expect(res.code).toBe(0)
    expect(res.out).toMatch(/hth_[\w-]{43}/)
  })

  it('refuses a missing name or an unknown scope with exit code 2', async () => {
    using dir = tempDir()
    expect((await cli(['token', 'create', '--scope', 'read'], { cwd: dir.path })).code).toBe(2)
    expect((await cli(['token', 'create', '--name', 'x', '--scope', 'root'], { cwd: dir.path })).code).toBe(2)
    expect((await cli(['token', 'frob'], { cwd: dir.path })).code).toBe(2)
  })
})
