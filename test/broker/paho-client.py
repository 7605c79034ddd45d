"""Debian's python3-paho-mqtt (1.6) as a client nobody here wrote.

usage: paho-client.py MODE PORT USERNAME PASSWORD CLIENT_ID TOPIC
  subscribe   persistent session (clean_session=False): SUBSCRIBE at QoS 1, then DISCONNECT
  resume      reconnect the persistent session, print 'session-present <0|1>' and the first
              queued message as 'message <qos> <payload>', without subscribing again
  publish2    PUBLISH 'paho-qos2' at QoS 2 and wait for PUBCOMP, print 'published'
  will        connect with a will on TOPIC ('gone', QoS 1), print 'connected', then hang until killed
Prints 'connack <rc>' first; exits non-zero on any failure or after 10 s.
"""
import sys
import threading
import time

import paho.mqtt.client as mqtt

mode, port, username, password, client_id, topic = sys.argv[1:7]
done = threading.Event()
failed = []


def out(line):
    print(line, flush=True)


def on_connect(client, userdata, flags, rc):
    out(f"connack {rc}")
    if rc != 0:
        failed.append(rc)
        done.set()
        return
    if mode == "subscribe":
        client.subscribe(topic, qos=1)
    elif mode == "resume":
        out(f"session-present {flags.get('session present', 0)}")
    elif mode == "publish2":
        client.publish(topic, "paho-qos2", qos=2)
    elif mode == "will":
        out("connected")


def on_subscribe(client, userdata, mid, granted_qos):
    out(f"granted {granted_qos[0]}")
    client.disconnect()


def on_message(client, userdata, msg):
    out(f"message {msg.qos} {msg.payload.decode()}")
    client.disconnect()


def on_publish(client, userdata, mid):
    out("published")
    client.disconnect()


def on_disconnect(client, userdata, rc):
    done.set()


client = mqtt.Client(client_id=client_id, clean_session=mode not in ("subscribe", "resume"))
client.username_pw_set(username, password)
if mode == "will":
    client.will_set(topic, "gone", qos=1, retain=False)
client.on_connect = on_connect
client.on_subscribe = on_subscribe
client.on_message = on_message
client.on_publish = on_publish
client.on_disconnect = on_disconnect
client.connect("127.0.0.1", int(port), keepalive=60)
client.loop_start()
if mode == "will":
    # Dies only by the test's SIGKILL: no DISCONNECT, so the broker must send the will.
    while True:
        time.sleep(3600)
ok = done.wait(10)
client.loop_stop()
sys.exit(0 if ok and not failed else 1)
