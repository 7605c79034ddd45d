import { z } from '@hono/zod-openapi'
import type { FirestoreSchedules } from '../../bridges/firebase/firestore/schedules.ts'
import type { LocalTree } from '../../bridges/firebase/rtdb/local-tree.ts'
import { joinPath, pathProblem } from '../../bridges/firebase/rtdb/tree.ts'
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { getRoute, listRoute } from './route-builders.ts'

const TreeQuery = z.object({
  path: z.string().optional().openapi({ description: 'a node below the root, e.g. smarthome/status' }),
})

const TreeSchema = z
  .object({
    path: z.string().openapi({ description: 'the node returned; empty for the root' }),
    value: z.unknown().openapi({ description: 'the node as JSON; null when it has no value' }),
    updatedAt: z.number().int().nullable().openapi({ description: 'when the local copy last changed' }),
  })
  .openapi('RtdbTree')

const DocSchema = z
  .object({
    document: z.string(),
    schedule: z.string().openapi({ description: 'the hub schedule id (see /schedules)' }),
    updateTime: z.string().openapi({ description: 'the document version last synced' }),
    oneShot: z.boolean(),
    state: z.enum(['scheduled', 'fired', 'invalid']),
    reason: z.string().nullable().openapi({ description: 'why an invalid document is not scheduled' }),
    command: z.string().nullable().openapi({ description: 'the 9-character appliance command it publishes' }),
    syncedAt: z.number().int(),
  })
  .openapi('FirestoreScheduleDocument')

const tree = getRoute({
  path: '/rtdb',
  op: ['getRtdbMirror', 'Get the local copy of the mirrored Realtime Database tree'],
  request: { query: TreeQuery },
  answer: [TreeSchema, 'the tree, or one node of it'],
})

const docs = listRoute({
  path: '/firestore/schedules',
  op: [
    'listFirestoreSchedules',
    'List Firestore schedule documents as last synced, with the hub schedule each became',
  ],
  item: DocSchema,
  items: 'every document of the collection',
})

/** `/firebase`: read-only views of the Realtime Database mirror and the Firestore schedules. */
export function createFirebaseRoutes(deps: {
  tree: LocalTree
  schedules: FirestoreSchedules | undefined
  requireAuth: RequireAuth
}) {
  const router = createRouter()
  router.use('*', deps.requireAuth('read'))

  router.openapi(tree, (c) => {
    const path = joinPath(c.req.valid('query').path ?? '')
    if (path && pathProblem(path)) throw Errors.badQuery([{ path: 'path', message: pathProblem(path) }])
    return c.json({ path, value: deps.tree.get(path), updatedAt: deps.tree.updatedAt() }, 200)
  })

  router.openapi(docs, (c) =>
    c.json(
      {
        items: (deps.schedules?.docs() ?? []).map((d) => ({
          document: d.document,
          schedule: d.scheduleId,
          updateTime: d.updateTime,
          oneShot: d.oneShot,
          state: d.state,
          reason: d.reason,
          command: d.command,
          syncedAt: d.syncedAt,
        })),
      },
      200,
    ),
  )
  return router
}
