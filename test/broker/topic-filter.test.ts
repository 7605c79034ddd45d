import { describe, expect, it } from 'bun:test'
import { filterCovers, isValidFilter, topicMatches } from '../../src/broker/topic-filter.ts'

describe('topic filters', () => {
  it('accepts only well-formed filters [MQTT-4.7.1-2, MQTT-4.7.1-3]', () => {
    const valid = ['#', '+', 'a/#', 'a/+/b', '+/+', 'devices/d1/#', '/', 'a//b']
    const invalid = ['', 'a#', 'a/#/b', 'a/b+', '+a/b', '#/a', 'a/\u0000']
    expect(valid.filter(isValidFilter)).toEqual(valid)
    expect(invalid.filter(isValidFilter)).toEqual([])
  })

  it('matches topics the way MQTT 3.1.1 section 4.7 defines', () => {
    const cases: [string, string, boolean][] = [
      ['a/b', 'a/b', true],
      ['a/+', 'a/b', true],
      ['a/+', 'a/b/c', false],
      ['a/#', 'a', true],
      ['a/#', 'a/b/c', true],
      ['#', 'a/b', true],
      ['+/b', '/b', true],
      ['a/b', 'a/b/c', false],
      // [MQTT-4.7.2-1] leading wildcards do not reach $ topics.
      ['#', '$SYS/broker/uptime', false],
      ['+/broker/uptime', '$SYS/broker/uptime', false],
      ['$SYS/#', '$SYS/broker/uptime', true],
    ]
    expect(cases.map(([f, t]) => topicMatches(f, t))).toEqual(cases.map((c) => c[2]))
  })

  it('lets a rule cover a subscription only when every topic the subscription can match is allowed', () => {
    const rule = 'devices/d1/#'
    const cases: [string, boolean][] = [
      ['devices/d1/#', true],
      ['devices/d1', true],
      ['devices/d1/+/x', true],
      ['devices/d1/state', true],
      ['#', false],
      ['devices/+/x', false],
      ['devices/#', false],
      ['devices/d2/#', false],
      ['+/d1/x', false],
    ]
    expect(cases.map(([s]) => filterCovers(rule, s))).toEqual(cases.map((c) => c[1]))
  })

  it('treats + in a rule as any one level and never as covering a multi-level wildcard', () => {
    expect(filterCovers('a/+', 'a/b')).toBe(true)
    expect(filterCovers('a/+', 'a/+')).toBe(true)
    expect(filterCovers('a/+', 'a/#')).toBe(false)
    expect(filterCovers('a/b', 'a/+')).toBe(false)
    expect(filterCovers('a/b', 'a/b/#')).toBe(false)
    expect(filterCovers('#', '$SYS/#')).toBe(false)
    expect(filterCovers('$SYS/#', '$SYS/broker/+')).toBe(true)
  })
})
