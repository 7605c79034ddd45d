import { describe, expect, it } from 'bun:test'
import { readingsFromBody } from '../../src/telemetry/body.ts'
import { parseTimestamp } from '../../src/telemetry/reading.ts'

const AT = Date.UTC(2025, 0, 15, 12)

describe('sensor bodies', () => {
  it("reads source (d)'s body: objects with a numeric-string value are readings, the rest is not", () => {
    const body = {
      groupid: '2',
      gps: '37.61002501514269, 126.99636868892937',
      co: { sensorid: '0005', sensortype: '8', value: '26.20', createdtime: '2021-09-03 18:14:49' },
      no2: { sensorid: '0006', value: 52 },
      iot_core: 'iot_core',
    }
    expect(readingsFromBody(body, 'pi-1', AT)).toEqual({
      ok: true,
      readings: [
        { device: 'pi-1', metric: 'co', ts: AT, value: 26.2 },
        { device: 'pi-1', metric: 'no2', ts: AT, value: 52 },
      ],
      ignored: ['groupid', 'gps', 'iot_core'],
    })
  })

  it('reads flat bodies and arrays, each object with its own ts', () => {
    const body = [
      { temperature: 21.5, ts: '2025-01-15T11:00:00Z' },
      { temperature: 22, humidity: 40, ts: 1736938800 },
    ]
    expect(readingsFromBody(body, 'pi-1', AT)).toEqual({
      ok: true,
      readings: [
        { device: 'pi-1', metric: 'temperature', ts: Date.UTC(2025, 0, 15, 11), value: 21.5 },
        { device: 'pi-1', metric: 'temperature', ts: 1736938800_000, value: 22 },
        { device: 'pi-1', metric: 'humidity', ts: 1736938800_000, value: 40 },
      ],
      ignored: [],
    })
  })

  it('reads ts as ISO 8601, epoch seconds or epoch milliseconds', () => {
    expect(parseTimestamp('2025-01-15T12:00:00.250Z')).toBe(AT + 250)
    expect(parseTimestamp(1736942400)).toBe(AT)
    expect(parseTimestamp('1736942400')).toBe(AT)
    expect(parseTimestamp(AT)).toBe(AT)
    expect(parseTimestamp(1736942400.5)).toBe(AT + 500)
    for (const bad of ['yesterday', '', -1, null, true, '0x10']) expect(parseTimestamp(bad)).toBeUndefined()
  })

  it('reports every value that is not a number, and reads nothing then', () => {
    const body = [{ co: { value: 'high' }, no2: 52 }, { h2: { value: null } }]
    expect(readingsFromBody(body, 'pi-1', AT)).toEqual({
      ok: false,
      kind: 'value',
      problems: [
        { path: '[0].co.value', message: 'not a number or numeric string' },
        { path: '[1].h2.value', message: 'not a number or numeric string' },
      ],
    })
  })

  it('refuses bodies that are not objects of readings, and bad times', () => {
    expect(readingsFromBody(42, 'pi-1', AT)).toMatchObject({
      ok: false,
      kind: 'shape',
      problems: [{ path: '$' }],
    })
    expect(readingsFromBody([{ co: 1 }, 'x'], 'pi-1', AT)).toMatchObject({
      ok: false,
      problems: [{ path: '[1]' }],
    })
    expect(readingsFromBody({ co: 1, ts: 'soon' }, 'pi-1', AT)).toMatchObject({
      ok: false,
      problems: [{ path: 'ts' }],
    })
  })

  it('refuses reading times before 2000-01-01 or more than a day past now, as kind "time"', () => {
    const day = 86_400_000
    expect(
      readingsFromBody([{ co: 1, ts: 1e20 }, { no2: { value: 2, ts: AT + day + 1 } }], 'pi-1', AT),
    ).toEqual({
      ok: false,
      kind: 'time',
      problems: [
        { path: '[0].ts', message: 'outside 2000-01-01 to one day past the hub clock' },
        { path: '[1].no2.ts', message: 'outside 2000-01-01 to one day past the hub clock' },
      ],
    })
    expect(readingsFromBody({ co: 1, ts: '1999-12-31T23:59:59.999Z' }, 'pi-1', AT)).toMatchObject({
      kind: 'time',
    })
    // A shape problem outranks a time problem: the body is refused as not matching the schema.
    expect(readingsFromBody([{ co: 1, ts: 1e20 }, 'x'], 'pi-1', AT)).toMatchObject({ kind: 'shape' })
    expect(readingsFromBody({ co: 1, ts: Date.UTC(2000, 0, 1) }, 'pi-1', AT)).toMatchObject({ ok: true })
    expect(readingsFromBody({ co: 1, ts: AT + day }, 'pi-1', AT)).toMatchObject({ ok: true })
  })

  it('accepts a body without readings (a rule may still act on it)', () => {
    expect(readingsFromBody({ emergency: 'emergency' }, 'pi-1', AT)).toEqual({
      ok: true,
      readings: [],
      ignored: ['emergency'],
    })
  })
})
