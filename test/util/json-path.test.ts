import { describe, expect, it } from 'bun:test'
import { hasPath, parsePath, toNumber, valueAt } from '../../src/util/json-path.ts'

describe('json paths', () => {
  it('parses dotted, $-prefixed and bracketed paths', () => {
    expect(parsePath('co.value')).toEqual(['co', 'value'])
    expect(parsePath('$.a.b')).toEqual(['a', 'b'])
    expect(parsePath('items[0].t')).toEqual(['items', '0', 't'])
    expect(parsePath('a["b.c"]')).toEqual(['a', 'b.c'])
    expect(parsePath('$')).toEqual([])
  })

  it('reads values and presence', () => {
    const v = { a: { b: [10, { c: null }] } }
    expect(valueAt(v, 'a.b[0]')).toBe(10)
    expect(valueAt(v, 'a.b.1.c')).toBeNull()
    expect(valueAt(v, 'a.x.y')).toBeUndefined()
    expect(valueAt(v, '$')).toEqual(v)
    expect(hasPath(v, 'a.b.1.c')).toBe(true)
    expect(hasPath(v, 'a.b.1.d')).toBe(false)
  })

  it('reads numbers the way Python float() does for sensor strings', () => {
    expect([
      toNumber('26.20'),
      toNumber(' 7 '),
      toNumber(3),
      toNumber(''),
      toNumber('x'),
      toNumber(null),
    ]).toEqual([26.2, 7, 3, undefined, undefined, undefined])
  })
})
