import { describe, expect, it } from 'bun:test'
import { applianceCommand, scheduleDocSchema } from '../../../src/bridges/firebase/firestore/schedule-doc.ts'
import { decodeFields, encodeFields } from '../../../src/bridges/firebase/firestore/values.ts'
import { createSseParser } from '../../../src/bridges/firebase/rtdb/sse.ts'
import { getAt, pathProblem, sameValue, setAt, updateAt } from '../../../src/bridges/firebase/rtdb/tree.ts'

describe('the Realtime Database tree', () => {
  it('sets, merges and deletes nodes as the database does, leaving no empty node behind', () => {
    let tree = setAt(null, 'smarthome/status', '012345678')
    tree = updateAt(tree, 'smarthome', { mode: '3', 'lights/kitchen': true })
    expect(tree).toEqual({ smarthome: { status: '012345678', mode: '3', lights: { kitchen: true } } })
    tree = setAt(tree, 'smarthome/lights/kitchen', null)
    expect(tree).toEqual({ smarthome: { status: '012345678', mode: '3' } })
    expect(getAt(tree, '/smarthome/status/')).toBe('012345678')
    expect(getAt(tree, 'nothing/here')).toBeNull()
    expect(setAt(tree, 'smarthome', { empty: {} })).toBeNull()
  })

  it('treats arrays as objects keyed by index when comparing', () => {
    expect(sameValue(['a', 'b'], { '0': 'a', '1': 'b' })).toBe(true)
    expect(sameValue({ a: 1, b: { c: null } }, { a: 1 })).toBe(true)
    expect(sameValue({ a: 1 }, { a: 2 })).toBe(false)
  })

  it('refuses keys the database refuses', () => {
    expect(pathProblem('sensor/kitchen')).toBeUndefined()
    expect(pathProblem('sensor/a.b')).toContain('"a.b"')
    expect(pathProblem('/')).toBe('the root cannot be mirrored')
  })
})

describe('the server-sent events parser', () => {
  // Every line ending the format allows (CRLF, CR, LF), a byte-order mark, a comment, multi-line
  // data and a value whose UTF-8 bytes a split can cut in half.
  const STREAM = new TextEncoder().encode(
    '\uFEFF: hello\r\n' +
      'event: put\r\ndata: {"path":"/","data":{"status":"012145610"}}\r\n\r\n' +
      'event: patch\rdata: {"path":"/smarthome","data":{"mode":"기상"}}\r\r' +
      'event: keep-alive\ndata: null\n\n' +
      'event: put\r\ndata: {"path": "/",\r\ndata: "data": 1}\r\n\r\n',
  )
  const EVENTS = [
    { event: 'put', data: '{"path":"/","data":{"status":"012145610"}}' },
    { event: 'patch', data: '{"path":"/smarthome","data":{"mode":"기상"}}' },
    { event: 'keep-alive', data: 'null' },
    { event: 'put', data: '{"path": "/",\n"data": 1}' },
  ]

  it('reads every event whatever byte the stream is split at, a CRLF split in two included', () => {
    for (let at = 0; at <= STREAM.length; at++) {
      const p = createSseParser()
      const events = [...p.push(STREAM.subarray(0, at)), ...p.push(STREAM.subarray(at))]
      expect({ at, events }).toEqual({ at, events: EVENTS })
    }
  })

  it('reads every event fed one byte at a time', () => {
    const p = createSseParser()
    const events = Array.from(STREAM, (_, i) => p.push(STREAM.subarray(i, i + 1))).flat()
    expect(events).toEqual(EVENTS)
  })
})

describe('schedule_mode documents', () => {
  it('make source (a)’s 9-character command, reading values the way its Python did', () => {
    const doc = scheduleDocSchema.parse({
      repeat: true,
      enabled: true,
      startTime: 705,
      daysOfWeek: [true, false, false, false, false, false, true],
      airconEnable: 1,
      airconWindPower: '3',
      lightEnable: false,
      lightBrightness: 9,
      lightColor: 0,
      lightMode: 1,
      windowOpen: '0',
      gasValveEnable: true,
    })
    expect(doc.startTime).toBe('0705')
    expect(applianceCommand(doc)).toBe('013090101')
  })

  it('round-trips Firestore values', () => {
    const value = { s: '기상', n: 7, d: 1.5, b: true, z: null, a: [1, 'x'], m: { deep: { ok: false } } }
    expect(decodeFields(encodeFields(value))).toEqual(value)
  })
})
