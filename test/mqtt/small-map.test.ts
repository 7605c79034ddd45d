import { describe, expect, it } from 'bun:test'
import { SmallMap } from '../../src/mqtt/small-map.ts'

const sub = (filter: string, qos: 0 | 1 | 2 = 0) => ({ filter, qos })

describe("SmallMap (a session's subscriptions, the subscribers of a filter)", () => {
  it('behave as a map by filter in subscription order, one inline or many', () => {
    const subs = new SmallMap<string, ReturnType<typeof sub>>()
    expect([...subs.values()]).toEqual([])
    subs.set('a', sub('a'))
    // [MQTT-3.8.4-3] the same filter again replaces the subscription, in its place
    subs.set('a', sub('a', 1))
    expect([...subs.values()]).toEqual([sub('a', 1)])
    subs.set('b', sub('b'))
    subs.set('a', sub('a', 2))
    subs.set('c', sub('c'))
    expect([...subs.values()]).toEqual([sub('a', 2), sub('b'), sub('c')])
    expect([...subs].map(([k]) => k)).toEqual(['a', 'b', 'c'])
    expect([subs.size, subs.get('b'), subs.get('x')]).toEqual([3, sub('b'), undefined])
    expect([subs.has('b'), subs.delete('b'), subs.has('b'), subs.delete('b')]).toEqual([
      true,
      true,
      false,
      false,
    ])
    subs.clear()
    expect([...subs.values()]).toEqual([])
    subs.set('d', sub('d'))
    expect([subs.size, [...subs], subs.get('d')]).toEqual([1, [['d', sub('d')]], sub('d')])
    expect([subs.has('d'), subs.has('a'), subs.delete('a'), subs.delete('d'), [...subs.values()]]).toEqual([
      true,
      false,
      false,
      true,
      [],
    ])
  })
})
