// `bun test` preload (bunfig.toml): src/http/console/static.ts imports web/dist, so the console
// bundle must exist, and be current, before any test imports the hub.
import { ensureWeb } from './build-web.ts'

await ensureWeb()
