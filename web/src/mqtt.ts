// The MQTT explorer's client, bundled apart (web/dist/mqtt.js) and loaded only on that page.
// mqtt.js's browser build has only a default export (the whole API).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'

export const connect = (url: string, opts: IClientOptions): MqttClient => mqtt.connect(url, opts)
