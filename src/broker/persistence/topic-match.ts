import { type QlobberOptions, QlobberTrue } from 'qlobber'

/**
 * Topic matching as Aedes routes live messages (mqemitter with `matchEmptyLevels`), so an offline
 * queue or a retained lookup matches exactly what a live subscriber would get [MQTT-4.7.1-3].
 */
export const QLOBBER_OPTIONS: QlobberOptions = {
  separator: '/',
  wildcard_one: '+',
  wildcard_some: '#',
  match_empty_levels: true,
}

export interface FilterMatcher {
  /** Filters without wildcards: looked up directly. */
  readonly exact: readonly string[]
  /** Whether any filter has a wildcard (only then is a scan needed). */
  readonly wild: boolean
  /** Whether a topic matches one of the wildcard filters. */
  test(topic: string): boolean
}

/** Several topic filters matched in one pass, as a SUBSCRIBE with many filters needs. */
export function createFilterMatcher(filters: readonly string[]): FilterMatcher {
  const exact: string[] = []
  const all = new QlobberTrue(QLOBBER_OPTIONS)
  // [MQTT-4.7.2-1] a filter starting with a wildcard must not match a topic starting with '$'.
  const dollar = new QlobberTrue(QLOBBER_OPTIONS)
  let wild = false
  let dollarWild = false
  for (const f of filters) {
    if (!f.includes('+') && !f.includes('#')) {
      exact.push(f)
      continue
    }
    wild = true
    all.add(f)
    if (f[0] !== '+' && f[0] !== '#') {
      dollar.add(f)
      dollarWild = true
    }
  }
  return {
    exact,
    wild,
    test: (topic) => (topic[0] === '$' ? dollarWild && dollar.test(topic) : all.test(topic)),
  }
}
