// The subscription trie: one node per topic level, with a cache of recent lookups so a topic
// published over and over costs one map lookup. Any change to the trie clears the cache.

import { isServerTopic } from '../util/topic.ts'
import { SmallMap } from './small-map.ts'
import type { InProcessSubscriber, Subscription } from './types.ts'

interface Node<S> {
  children: Map<string, Node<S>> | undefined
  /** Most filters have one subscriber: a SmallMap holds it without a Map. */
  subs: SmallMap<S, Subscription> | undefined
  shared: Map<string, SharedGroup<S>> | undefined
  handlers: Set<InProcessSubscriber> | undefined
}

/** The members of one `$share/<group>/<filter>`; each message goes to one of them [MQTT-4.8.2]. */
interface SharedGroup<S> {
  members: Array<{ session: S; sub: Subscription }>
  /** Round-robin position. */
  next: number
}

interface MatchEntry<S> {
  session: S
  /** Every subscription of the session that matches, for the highest QoS and all identifiers [MQTT-3.3.4-2]. */
  subs: Subscription[]
}

export interface MatchResult<S> {
  direct: MatchEntry<S>[]
  shared: SharedGroup<S>[]
  handlers: InProcessSubscriber[]
}

const CACHE_LIMIT = 8192

const node = <S>(): Node<S> => ({
  children: undefined,
  subs: undefined,
  shared: undefined,
  handlers: undefined,
})

export class SubscriptionTrie<S> {
  private readonly root: Node<S> = node()
  private readonly cache = new Map<string, MatchResult<S>>()
  /** Subscriptions held (shared members included, in-process handlers not). */
  size = 0

  private walk(filter: string, create: boolean): Node<S> | undefined {
    let n = this.root
    for (const level of filter.split('/')) {
      let child = n.children?.get(level)
      if (!child) {
        if (!create) return undefined
        child = node()
        n.children ??= new Map()
        n.children.set(level, child)
      }
      n = child
    }
    return n
  }

  /** Adds or replaces a session's subscription to a filter (its group when shared). */
  add(filter: string, group: string | undefined, session: S, sub: Subscription): void {
    const n = this.walk(filter, true)!
    this.cache.clear()
    if (group === undefined) {
      n.subs ??= new SmallMap()
      if (!n.subs.has(session)) this.size++
      n.subs.set(session, sub)
      return
    }
    n.shared ??= new Map()
    let g = n.shared.get(group)
    if (!g) {
      g = { members: [], next: 0 }
      n.shared.set(group, g)
    }
    const existing = g.members.find((m) => m.session === session)
    if (existing) existing.sub = sub
    else {
      g.members.push({ session, sub })
      this.size++
    }
  }

  remove(filter: string, group: string | undefined, session: S): boolean {
    const n = this.walk(filter, false)
    if (!n) return false
    this.cache.clear()
    if (group === undefined) {
      const removed = n.subs?.delete(session) ?? false
      if (removed) this.size--
      return removed
    }
    const g = n.shared?.get(group)
    const i = g ? g.members.findIndex((m) => m.session === session) : -1
    if (!g || i < 0) return false
    g.members.splice(i, 1)
    if (g.members.length === 0) n.shared!.delete(group)
    this.size--
    return true
  }

  addHandler(filter: string, handler: InProcessSubscriber): void {
    const n = this.walk(filter, true)!
    n.handlers ??= new Set()
    n.handlers.add(handler)
    this.cache.clear()
  }

  removeHandler(filter: string, handler: InProcessSubscriber): void {
    this.walk(filter, false)?.handlers?.delete(handler)
    this.cache.clear()
  }

  /** Everything a topic reaches. The result is cached: callers must not change it. */
  match(topic: string): MatchResult<S> {
    const cached = this.cache.get(topic)
    if (cached) return cached
    const bySession = new Map<S, Subscription[]>()
    const result: MatchResult<S> = { direct: [], shared: [], handlers: [] }
    // [MQTT-4.7.2-1] `+` and `#` at the first level never match a topic starting with `$`
    this.collect(this.root, topic.split('/'), 0, isServerTopic(topic), bySession, result)
    for (const [session, subs] of bySession) result.direct.push({ session, subs })
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear()
    this.cache.set(topic, result)
    return result
  }

  private collect(
    n: Node<S>,
    levels: string[],
    i: number,
    dollar: boolean,
    bySession: Map<S, Subscription[]>,
    out: MatchResult<S>,
  ): void {
    if (i === levels.length) {
      this.take(n, bySession, out)
      // [MQTT-4.7.1-2] `sport/#` also matches `sport`
      const hash = n.children?.get('#')
      if (hash) this.take(hash, bySession, out)
      return
    }
    if (!n.children) return
    const exact = n.children.get(levels[i]!)
    if (exact) this.collect(exact, levels, i + 1, dollar, bySession, out)
    if (i === 0 && dollar) return
    const plus = n.children.get('+')
    if (plus) this.collect(plus, levels, i + 1, dollar, bySession, out)
    const hash = n.children.get('#')
    if (hash) this.take(hash, bySession, out)
  }

  private take(n: Node<S>, bySession: Map<S, Subscription[]>, out: MatchResult<S>): void {
    if (n.subs) {
      for (const [session, sub] of n.subs) {
        const list = bySession.get(session)
        if (list) list.push(sub)
        else bySession.set(session, [sub])
      }
    }
    if (n.shared) for (const g of n.shared.values()) out.shared.push(g)
    if (n.handlers) for (const h of n.handlers) out.handlers.push(h)
  }
}
