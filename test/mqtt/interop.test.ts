// Clients nobody here wrote, against the bare engine: Debian's mosquitto_pub / mosquitto_sub
// (MQTT 5 with properties, and 3.1.1) and python3 paho-mqtt (MQTTv5).
import { describe, expect, it } from 'bun:test'
import { waitFor } from '../helpers/wait.ts'
import { startEngine } from './helpers.ts'

const run = async (cmd: string[], timeoutMs = 10_000) => {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', timeout: timeoutMs })
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { out, err, code }
}

describe('interoperability', () => {
  it('mosquitto_pub -V 5 → mosquitto_sub -V 5: user properties, content type, response topic, subscription id', async () => {
    await using t = await startEngine()
    const port = String(t.port)
    const sub = run([
      'mosquitto_sub',
      '-V',
      '5',
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-t',
      'i/#',
      '-C',
      '1',
      '-q',
      '1',
      '-D',
      'subscribe',
      'subscription-identifier',
      '9',
      '-F',
      '%t|%P|%C|%R|%S|%p',
    ])
    await waitFor(() => t.engine.stats().subscriptions === 1)
    const pub = await run([
      'mosquitto_pub',
      '-V',
      '5',
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-t',
      'i/x',
      '-m',
      'hello',
      '-q',
      '1',
      '-D',
      'publish',
      'user-property',
      'b',
      '2',
      '-D',
      'publish',
      'user-property',
      'a',
      '1',
      '-D',
      'publish',
      'content-type',
      'text/plain',
      '-D',
      'publish',
      'response-topic',
      'r/1',
    ])
    expect(pub.code).toBe(0)
    const got = await sub
    expect(got.out.trim()).toBe('i/x|b:2 a:1|text/plain|r/1|9|hello')
  })

  it('mosquitto_pub -V mqttv311 retained at QoS 1 reaches a later mosquitto_sub', async () => {
    await using t = await startEngine()
    const port = String(t.port)
    const pub = await run([
      'mosquitto_pub',
      '-V',
      'mqttv311',
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-t',
      'ret/1',
      '-m',
      'kept',
      '-q',
      '1',
      '-r',
    ])
    expect(pub.code).toBe(0)
    const sub = await run([
      'mosquitto_sub',
      '-V',
      'mqttv311',
      '-h',
      '127.0.0.1',
      '-p',
      port,
      '-t',
      'ret/#',
      '-C',
      '1',
      '-v',
    ])
    expect(sub.out.trim()).toBe('ret/1 kept')
  })

  it('paho-mqtt MQTTv5: session expiry, subscription identifier and user properties round trip', async () => {
    await using t = await startEngine()
    const script = `
import sys, threading
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
done = threading.Event()
def on_connect(c, u, flags, rc, props=None):
    sp = Properties(PacketTypes.SUBSCRIBE); sp.SubscriptionIdentifier = 4
    c.subscribe('p/#', qos=1, properties=sp)
def on_subscribe(c, u, mid, rcs, props=None):
    pp = Properties(PacketTypes.PUBLISH); pp.UserProperty = [('x', '1'), ('y', '2')]
    c.publish('p/1', b'paho', qos=1, properties=pp)
def on_message(c, u, m):
    print('message', m.topic, m.payload.decode(), m.properties.SubscriptionIdentifier, m.properties.UserProperty, flush=True)
    done.set()
c = mqtt.Client(client_id='paho5', protocol=mqtt.MQTTv5)
c.on_connect, c.on_subscribe, c.on_message = on_connect, on_subscribe, on_message
cp = Properties(PacketTypes.CONNECT); cp.SessionExpiryInterval = 60
c.connect('127.0.0.1', ${t.port}, keepalive=30, properties=cp)
c.loop_start()
ok = done.wait(10)
c.disconnect(); c.loop_stop()
sys.exit(0 if ok else 1)
`
    const r = await run(['/usr/bin/python3', '-c', script], 20_000)
    expect(r.code).toBe(0)
    expect(r.out.trim()).toBe("message p/1 paho [4] [('x', '1'), ('y', '2')]")
  })
})
