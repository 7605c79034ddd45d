// The floor of a broker on this runtime: a forwarder on Bun.listen that does only what the
// latency scenario needs (CONNECT → CONNACK, SUBSCRIBE → SUBACK, every PUBLISH written to every
// subscribed socket, PINGREQ → PINGRESP), no topic matching, no policy, no store. bench/mqtt.ts
// measures it in the same rounds as the hub and mosquitto: what the runtime alone costs.
//
//   bun bench/mqtt/floor.ts     prints its port; stops when stdin closes
import type { Socket } from 'bun'

interface Peer {
  /** A packet split across reads, kept until it is whole. */
  rest: Uint8Array | undefined
}

const CONNACK = Uint8Array.of(0x20, 2, 0, 0)
const PINGRESP = Uint8Array.of(0xd0, 0)
const subscribers = new Set<Socket<Peer>>()

function handle(s: Socket<Peer>, data: Uint8Array): void {
  let at = 0
  while (at + 2 <= data.length) {
    // Remaining Length, a variable byte integer [MQTT-1.5.5]
    let len = 0
    let shift = 0
    let i = at + 1
    let b = 0
    do {
      b = data[i++]!
      len |= (b & 0x7f) << shift
      shift += 7
    } while (b & 0x80 && i < data.length)
    if (b & 0x80 || i + len > data.length) break
    const type = data[at]! >> 4
    if (type === 1) s.write(CONNACK)
    else if (type === 8) {
      subscribers.add(s)
      // SUBACK for one filter at QoS 0, with the SUBSCRIBE's packet id
      s.write(Uint8Array.of(0x90, 3, data[i]!, data[i + 1]!, 0))
    } else if (type === 3) for (const t of subscribers) t.write(data.subarray(at, i + len))
    else if (type === 12) s.write(PINGRESP)
    else if (type === 14) s.end()
    at = i + len
  }
  s.data.rest = at < data.length ? data.slice(at) : undefined
}

const server = Bun.listen<Peer>({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(s) {
      s.data = { rest: undefined }
    },
    data(s, chunk) {
      const rest = s.data.rest
      handle(s, rest ? Buffer.concat([rest, chunk]) : chunk)
    },
    close(s) {
      subscribers.delete(s)
    },
  },
})
process.stdout.write(`${server.port}\n`)
for await (const _ of Bun.stdin.stream()) {
  // nothing is read: stdin closing is the signal to stop
}
server.stop(true)
process.exit(0)
