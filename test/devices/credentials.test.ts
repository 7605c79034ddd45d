import { describe, expect, it } from 'bun:test'
import {
  createCredentialCache,
  hashDevicePassword,
  newDevicePassword,
} from '../../src/devices/credentials.ts'

describe('device credentials', () => {
  it('makes URL-safe passwords from at least 24 random bytes', () => {
    const passwords = new Set(Array.from({ length: 50 }, () => newDevicePassword()))
    expect(passwords.size).toBe(50)
    for (const p of passwords) {
      expect(p).toMatch(/^[A-Za-z0-9_-]{32,}$/)
      expect(Buffer.from(p, 'base64url').length).toBeGreaterThanOrEqual(24)
    }
  })

  it('hashes with argon2id', async () => {
    const hash = await hashDevicePassword('secret')
    expect(hash.startsWith('$argon2id$')).toBe(true)
    expect(await Bun.password.verify('secret', hash)).toBe(true)
  })

  it('answers a repeated successful verification from memory, in far less time than argon2id takes', async () => {
    const cache = createCredentialCache()
    const password = newDevicePassword()
    const hash = await hashDevicePassword(password)
    const t0 = performance.now()
    expect(await cache.verify('d1', password, hash)).toBe(true)
    const first = performance.now() - t0
    const t1 = performance.now()
    for (let i = 0; i < 100; i++) expect(await cache.verify('d1', password, hash)).toBe(true)
    const hundredCached = performance.now() - t1
    expect(hundredCached).toBeLessThan(first)
    expect(cache.size).toBe(1)
  })

  it('never lets a wrong password in, cached or not', async () => {
    const cache = createCredentialCache()
    const hash = await hashDevicePassword('right')
    expect(await cache.verify('d1', 'right', hash)).toBe(true)
    expect(await cache.verify('d1', 'wrong', hash)).toBe(false)
  })

  it('does not accept a cached password once the stored hash changed (a rotation in another process)', async () => {
    const cache = createCredentialCache()
    const old = await hashDevicePassword('old')
    expect(await cache.verify('d1', 'old', old)).toBe(true)
    const rotated = await hashDevicePassword('new')
    expect(await cache.verify('d1', 'old', rotated)).toBe(false)
    expect(await cache.verify('d1', 'new', rotated)).toBe(true)
  })

  it('forgets a device on request and stays within its size bound', async () => {
    const cache = createCredentialCache({ maxEntries: 2 })
    const hash = await hashDevicePassword('pw')
    for (const id of ['a', 'b', 'c']) await cache.verify(id, 'pw', hash)
    expect(cache.size).toBe(2)
    cache.forget('c')
    expect(cache.size).toBe(1)
  })
})
