// One raw MQTT connection over Bun's native TCP socket, with a write queue: Bun's `write` takes
// what the kernel accepts and answers how much, the rest waits here for `drain`.
import type { Socket } from 'bun'
import {
  CONNACK,
  connectPacket,
  type Incoming,
  Parser,
  SUBACK,
  skipProperties,
  subscribePacket,
} from './wire.ts'

export interface ConnOptions {
  port: number
  clientId: string
  keepaliveS?: number
  /** MQTT 5 instead of 3.1.1. */
  v5?: boolean
  onPacket?: (p: Incoming, conn: Conn) => void
}

export class Conn {
  socket: Socket<undefined> | undefined
  /** Bytes handed to `send` that the kernel has not taken yet. */
  pendingBytes = 0
  closed = false
  private pending: Uint8Array[] = []
  private drainWaiters: (() => void)[] = []
  private waiting: { type: number; resolve: (p: Incoming) => void }[] = []
  private readonly parser: Parser
  private readonly closedWaiters: (() => void)[] = []

  constructor(private readonly opts: ConnOptions) {
    this.parser = new Parser((p) => {
      const w = this.waiting[0]
      if (w && w.type === p.type) {
        this.waiting.shift()
        w.resolve(p)
        return
      }
      opts.onPacket?.(p, this)
    })
  }

  /** TCP connect, CONNECT, CONNACK 0. Rejects on a refusal or a closed socket. */
  async open(): Promise<void> {
    const connack = this.expect(CONNACK)
    // Awaited below; a close before then must not count as an unhandled rejection.
    connack.catch(() => {})
    this.socket = await Bun.connect({
      hostname: '127.0.0.1',
      port: this.opts.port,
      socket: {
        data: (_s, data) => this.parser.push(data),
        drain: () => this.flush(),
        close: () => this.onClose(),
        error: () => this.onClose(),
      },
    })
    this.send(connectPacket(this.opts.clientId, this.opts.keepaliveS ?? 0, this.opts.v5))
    const ack = await connack
    const rc = ack.data[ack.at + 1]
    if (rc !== 0) throw new Error(`CONNACK ${rc}`)
  }

  async subscribe(filter: string, qos: number): Promise<number> {
    const suback = this.expect(SUBACK)
    this.send(subscribePacket(1, filter, qos, this.opts.v5))
    const p = await suback
    // MQTT 5: the SUBACK's reason codes follow its property block.
    return this.opts.v5 ? p.data[skipProperties(p.data, p.at + 2)]! : p.data[p.at + 2]!
  }

  /** Resolves with the next packet of `type` (it does not reach `onPacket`). */
  private expect(type: number): Promise<Incoming> {
    return new Promise<Incoming>((resolve, reject) => {
      if (this.closed) return reject(new Error('connection closed'))
      this.waiting.push({
        type,
        resolve: (p) => resolve({ ...p, data: p.data.slice(p.at, p.end), at: 0, end: p.end - p.at }),
      })
      this.closedWaiters.push(() => reject(new Error('connection closed')))
    })
  }

  /** Queues `buf`; false when it could not all go to the kernel now (wait for `drained()`). */
  send(buf: Uint8Array): boolean {
    const s = this.socket
    if (!s || this.closed) return false
    // What waits is copied: callers reuse their buffers once `send` returns.
    if (this.pending.length) {
      this.pending.push(buf.slice())
      this.pendingBytes += buf.length
      return false
    }
    const n = s.write(buf)
    if (n >= buf.length) return true
    const left = buf.slice(Math.max(0, n))
    this.pending.push(left)
    this.pendingBytes += left.length
    return false
  }

  drained(): Promise<void> {
    if (!this.pending.length || this.closed) return Promise.resolve()
    return new Promise((resolve) => this.drainWaiters.push(resolve))
  }

  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve()
    return new Promise((resolve) => this.closedWaiters.push(resolve))
  }

  end(): void {
    this.socket?.end()
  }

  private flush(): void {
    const s = this.socket
    while (s && this.pending.length) {
      const buf = this.pending[0]!
      const n = s.write(buf)
      if (n < buf.length) {
        if (n > 0) {
          this.pending[0] = buf.subarray(n)
          this.pendingBytes -= n
        }
        return
      }
      this.pending.shift()
      this.pendingBytes -= buf.length
    }
    for (const w of this.drainWaiters.splice(0)) w()
  }

  private onClose(): void {
    if (this.closed) return
    this.closed = true
    for (const w of this.closedWaiters.splice(0)) w()
    for (const w of this.drainWaiters.splice(0)) w()
  }
}
