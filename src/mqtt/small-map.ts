// A Map for the places that nearly always hold one entry: a session's subscriptions, the
// subscribers of one topic filter. A Map costs about 250 bytes even for one entry, and an idle
// connection holds two of them; here the entry is kept inline and a Map is made at the second.

const NONE: readonly never[] = Object.freeze([])

/** The Map methods the engine uses, in insertion order like a Map. */
export class SmallMap<K, V> {
  private key: K | undefined
  private value: V | undefined
  private many: Map<K, V> | undefined

  get size(): number {
    return this.many ? this.many.size : this.value === undefined ? 0 : 1
  }

  has(key: K): boolean {
    return this.many ? this.many.has(key) : this.value !== undefined && this.key === key
  }

  get(key: K): V | undefined {
    if (this.many) return this.many.get(key)
    return this.key === key ? this.value : undefined
  }

  set(key: K, value: V): this {
    if (this.many) this.many.set(key, value)
    else if (this.value === undefined || this.key === key) {
      this.key = key
      this.value = value
    } else {
      this.many = new Map([[this.key as K, this.value]])
      this.many.set(key, value)
      this.key = undefined
      this.value = undefined
    }
    return this
  }

  delete(key: K): boolean {
    if (this.many) return this.many.delete(key)
    if (this.value === undefined || this.key !== key) return false
    this.key = undefined
    this.value = undefined
    return true
  }

  clear(): void {
    this.many = undefined
    this.key = undefined
    this.value = undefined
  }

  values(): Iterable<V> {
    if (this.many) return this.many.values()
    return this.value === undefined ? NONE : [this.value]
  }

  [Symbol.iterator](): Iterator<[K, V]> {
    if (this.many) return this.many[Symbol.iterator]()
    return (this.value === undefined ? NONE : [[this.key as K, this.value] as [K, V]])[Symbol.iterator]()
  }
}
