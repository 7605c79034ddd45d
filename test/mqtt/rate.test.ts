import { describe, expect, it } from 'bun:test'
import { TokenBucket } from '../../src/mqtt/rate.ts'

describe('token bucket', () => {
  it('lets a second’s worth through at once, then asks to wait for what was taken beyond it', () => {
    const bucket = new TokenBucket(10, 10, 0)
    expect(Array.from({ length: 10 }, () => bucket.take(1, 0))).toEqual(Array(10).fill(0))
    expect(bucket.take(1, 0)).toBe(100)
    expect(bucket.take(4, 0)).toBe(500)
  })

  it('refills at its rate up to its capacity, and says when it is full', () => {
    const bucket = new TokenBucket(10, 10, 0)
    bucket.take(10, 0)
    expect(bucket.full(500)).toBe(false)
    expect(bucket.take(5, 500)).toBe(0)
    expect(bucket.full(60_000)).toBe(true)
    expect(bucket.take(11, 60_000)).toBe(100)
  })
})
