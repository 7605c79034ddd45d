/** What Home Assistant is told about a metric's values. */
interface SensorKind {
  unit?: string
  deviceClass?: string
  stateClass: 'measurement' | 'total_increasing'
}

interface Known {
  deviceClass: string
  /** Units Home Assistant accepts for the class; the first is assumed when none is configured. */
  units: readonly string[]
  stateClass?: 'total_increasing'
}

// Units per device class as Home Assistant's sensor documentation lists them
// (home-assistant.io/integrations/sensor/#device-class): a class with a unit it does not list
// makes Home Assistant refuse the entity, so a class is sent only with one of these.
const KNOWN: Record<string, Known> = {
  temperature: { deviceClass: 'temperature', units: ['°C', '°F', 'K'] },
  humidity: { deviceClass: 'humidity', units: ['%'] },
  battery: { deviceClass: 'battery', units: ['%'] },
  pressure: {
    deviceClass: 'pressure',
    units: ['hPa', 'Pa', 'kPa', 'bar', 'cbar', 'mbar', 'mmHg', 'inHg', 'psi'],
  },
  co2: { deviceClass: 'carbon_dioxide', units: ['ppm'] },
  illuminance: { deviceClass: 'illuminance', units: ['lx'] },
  power: { deviceClass: 'power', units: ['W', 'kW'] },
  energy: { deviceClass: 'energy', units: ['kWh', 'Wh', 'MWh'], stateClass: 'total_increasing' },
  voltage: { deviceClass: 'voltage', units: ['V', 'mV'] },
  current: { deviceClass: 'current', units: ['A', 'mA'] },
  pm25: { deviceClass: 'pm25', units: ['µg/m³'] },
  pm10: { deviceClass: 'pm10', units: ['µg/m³'] },
}

const ALIASES: Record<string, string> = {
  temp: 'temperature',
  lux: 'illuminance',
  'pm2.5': 'pm25',
  pm2_5: 'pm25',
}

/**
 * The unit, device class and state class of a metric: a unit configured for its name wins; else
 * one from its name (`temperature`, or the last part of `env.temperature`) when that name is a
 * well-known quantity. Unknown metrics are plain measurements without a unit.
 */
export function sensorKind(metric: string, units: Readonly<Record<string, string>>): SensorKind {
  const lower = metric.toLowerCase()
  const last = lower.split('.').at(-1) ?? lower
  const known = KNOWN[ALIASES[lower] ?? lower] ?? KNOWN[ALIASES[last] ?? last]
  const configured = units[metric]
  const unit = configured ?? known?.units[0]
  const stateClass = known?.stateClass ?? 'measurement'
  if (!unit) return { stateClass }
  if (known?.units.includes(unit)) return { unit, deviceClass: known.deviceClass, stateClass }
  return { unit, stateClass: 'measurement' }
}
