import type { Server } from 'bun'

export interface ReceivedRequest {
  path: string
  headers: Record<string, string>
  body: string
  at: number
}

type Behaviour = (req: ReceivedRequest, nth: number) => Response | Promise<Response>

/**
 * A local webhook receiver on port 0 that fails on purpose: each path answers by its behaviour
 * (default 200), and every request is kept.
 */
export function startReceiver() {
  const requests: ReceivedRequest[] = []
  const behaviours = new Map<string, Behaviour>()
  const server: Server<undefined> = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const path = new URL(req.url).pathname
      const received: ReceivedRequest = {
        path,
        headers: Object.fromEntries(req.headers),
        body: await req.text(),
        at: Date.now(),
      }
      requests.push(received)
      const nth = requests.filter((r) => r.path === path).length
      return (behaviours.get(path) ?? (() => new Response('ok')))(received, nth)
    },
  })
  return {
    url: (path: string) => `http://127.0.0.1:${server.port}${path}`,
    requests,
    at: (path: string) => requests.filter((r) => r.path === path),
    behave(path: string, fn: Behaviour) {
      behaviours.set(path, fn)
    },
    [Symbol.asyncDispose]: () => server.stop(true),
  }
}
