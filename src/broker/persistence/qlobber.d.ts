// qlobber ships no types; these cover what the persistence uses (qlobber 8).
declare module 'qlobber' {
  export interface QlobberOptions {
    separator?: string
    wildcard_one?: string
    wildcard_some?: string
    match_empty_levels?: boolean
    max_words?: number
  }
  /** Tests topics against the added patterns; values are ignored. */
  export class QlobberTrue {
    constructor(options?: QlobberOptions)
    add(pattern: string): this
    test(topic: string): boolean
  }
}

declare module 'qlobber/aedes/qlobber-sub' {
  import type { QlobberOptions } from 'qlobber'

  interface SubValue {
    clientId: string
    topic: string
    qos?: number
    rh?: number
    rap?: boolean
    nl?: boolean
  }
  /** Aedes' subscription trie: one value per (topic, clientId), counted. */
  export default class QlobberSub {
    constructor(options?: QlobberOptions)
    readonly subscriptionsCount: number
    add(topic: string, value: SubValue): this
    remove(topic: string, value: { clientId: string; topic: string }): this
    match(topic: string): (SubValue & { qos: number })[]
  }
}
