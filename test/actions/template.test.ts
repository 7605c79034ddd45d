import { describe, expect, it } from 'bun:test'
import { badPlaceholders, render } from '../../src/actions/template.ts'
import { parseSteps, valueAt } from '../../src/util/json-path.ts'

const weather = {
  weather: [{ description: 'clear sky', icon: '01n' }],
  main: { temp: -3.5 },
  rain: { '1h': 0.2 },
  'a.b': 1,
}

describe('JSON paths', () => {
  it('reads dotted, bracketed, $-rooted and quoted paths', () => {
    expect(parseSteps('$.weather[0].icon')).toEqual(['weather', 0, 'icon'])
    expect(parseSteps('weather.0.icon')).toEqual(['weather', 0, 'icon'])
    expect(parseSteps("$['a.b']")).toEqual(['a.b'])
    expect(parseSteps('$')).toEqual([])
    expect(valueAt(weather, 'main.temp')).toBe(-3.5)
    expect(valueAt(weather, 'rain.1h')).toBe(0.2)
    expect(valueAt(weather, '$.weather[0].description')).toBe('clear sky')
    expect(valueAt(weather, '$')).toBe(weather)
    expect(valueAt(weather, 'weather.5.icon')).toBeUndefined()
    expect(valueAt(weather, 'main.temp.x')).toBeUndefined()
    // Inherited properties are not data.
    expect(valueAt(weather, 'main.constructor')).toBeUndefined()
  })

  it('refuses what is not a path', () => {
    for (const bad of ['.a', 'a..b', 'a b', '$a', 'a[x]', 'a[0']) expect(parseSteps(bad)).toBeUndefined()
  })
})

describe('templates', () => {
  it('fills {{path}} and {{path|json}} and reports what is missing', () => {
    expect(
      render(
        '{"t": {{main.temp}}, "d": {{weather.0.description|json}}, "x": {{x|json}}, "y": "{{y}}"}',
        weather,
      ),
    ).toEqual({
      text: '{"t": -3.5, "d": "clear sky", "x": null, "y": ""}',
      missing: ['x', 'y'],
    })
    expect(render('{"literal": {"braces": true}}', weather).text).toBe('{"literal": {"braces": true}}')
    expect(badPlaceholders('{{ok.path}} {{not ok}}')).toEqual(['not ok'])
  })
})
