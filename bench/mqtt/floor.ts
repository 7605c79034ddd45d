// The floor of a broker on this runtime: a forwarder on Bun.listen that does only what the
// latency scenario needs (CONNECT → CONNACK, SUBSCRIBE → SUBACK, every PUBLISH written to every
// subscribed socket, PINGREQ → PINGRESP), no topic matching, no policy, no store. bench/mqtt.ts
// measures it in the same rounds as the hub and mosquitto: what the runtime alone costs.
//
//   bun bench/mqtt/floor.ts     prints its port; stops when stdin closes
import type { Socket } from 'bun'
import { type Incoming, Parser } from './wire.ts'

interface Peer {
  /** Keeps a packet split across reads until it is whole. */
  parser: Parser
}

const CONNACK = Uint8Array.of(0x20, 2, 0, 0)
const PINGRESP = Uint8Array.of(0xd0, 0)
const subscribers = new Set<Socket<Peer>>()

function handle(s: Socket<Peer>, p: Incoming): void {
  const { type, data, at } = p
  if (type === 1) s.write(CONNACK)
  else if (type === 8) {
    subscribers.add(s)
    // SUBACK for one filter at QoS 0, with the SUBSCRIBE's packet id
    s.write(Uint8Array.of(0x90, 3, data[at]!, data[at + 1]!, 0))
  } else if (type === 3) for (const t of subscribers) t.write(data.subarray(p.start, p.end))
  else if (type === 12) s.write(PINGRESP)
  else if (type === 14) s.end()
}

const server = Bun.listen<Peer>({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    open(s) {
      s.data = { parser: new Parser((p) => handle(s, p)) }
    },
    data(s, chunk) {
      s.data.parser.push(chunk)
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
