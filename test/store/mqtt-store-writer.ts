// Child process of mqtt-store.test.ts: writes batches to the broker store until it is killed, and
// prints the number of each batch once `write` returned (committed).

import { silentLogger } from '../../src/log.ts'
import { createSqliteEngineStore } from '../../src/store/mqtt/sqlite-store.ts'
import { openDatabase } from '../../src/store/open.ts'

const [path] = process.argv.slice(2)
const store = createSqliteEngineStore({ db: openDatabase(path as string), log: silentLogger() })
// Large enough that a commit takes a while, so the kill often lands inside one.
const payload = Buffer.alloc(32 * 1024, 7)
for (let i = 0; ; i++) {
  store.write([
    {
      op: 'enqueue',
      clientId: 'c',
      item: { seq: 2 * i, message: { topic: 't', payload, qos: 1, retain: false } },
    },
    { op: 'retain', topic: `r/${i}`, message: { topic: `r/${i}`, payload, qos: 0, retain: true } },
    {
      op: 'enqueue',
      clientId: 'c',
      item: { seq: 2 * i + 1, message: { topic: 't', payload, qos: 1, retain: false } },
    },
  ])
  process.stdout.write(`${i}\n`)
}
