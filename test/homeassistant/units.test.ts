import { describe, expect, it } from 'bun:test'
import { sensorKind } from '../../src/homeassistant/units.ts'

describe('Home Assistant sensor kinds', () => {
  it('knows common quantities by name, also as the last part of a dotted name', () => {
    expect(sensorKind('temperature', {})).toEqual({
      unit: '°C',
      deviceClass: 'temperature',
      stateClass: 'measurement',
    })
    expect(sensorKind('env.humidity', {})).toEqual({
      unit: '%',
      deviceClass: 'humidity',
      stateClass: 'measurement',
    })
    expect(sensorKind('pm2.5', {})).toEqual({ unit: 'µg/m³', deviceClass: 'pm25', stateClass: 'measurement' })
    expect(sensorKind('energy', {})).toEqual({
      unit: 'kWh',
      deviceClass: 'energy',
      stateClass: 'total_increasing',
    })
  })

  it('lets a configured unit win, keeping the device class only for a unit Home Assistant accepts for it', () => {
    expect(sensorKind('temperature', { temperature: '°F' })).toMatchObject({
      unit: '°F',
      deviceClass: 'temperature',
    })
    expect(sensorKind('temperature', { temperature: 'raw' })).toEqual({
      unit: 'raw',
      stateClass: 'measurement',
    })
    expect(sensorKind('no2', { no2: 'ppb' })).toEqual({ unit: 'ppb', stateClass: 'measurement' })
  })

  it('leaves an unknown metric without unit or class', () => {
    expect(sensorKind('rssi', {})).toEqual({ stateClass: 'measurement' })
  })
})
