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
  it('reads events split anywhere across chunks, with comments and multi-line data', () => {
    const p = createSseParser()
    const text =
      ': hello\nevent: put\ndata: {"path": "/",\ndata: "data": 1}\n\nevent: keep-alive\ndata: null\n\n'
    const events = [...text].flatMap((ch) => p.push(ch))
    expect(events).toEqual([
      { event: 'put', data: '{"path": "/",\n"data": 1}' },
      { event: 'keep-alive', data: 'null' },
    ])
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
