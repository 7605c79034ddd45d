import type { Database } from 'bun:sqlite'
import { createRoute, z } from '@hono/zod-openapi'
import {
  groupAddResultSchema,
  groupCreateResultSchema,
  groupDeleteResultSchema,
  groupSubtractResultSchema,
} from '../../bus/payloads.ts'
import type { GroupService } from '../../devices/group-service.ts'
import { getGroup, listGroups, MAX_DEVICES_PER_CALL } from '../../devices/groups.ts'
import { deviceGroupInfoSchema } from '../../devices/schema.ts'
import { Errors } from '../../errors.ts'
import { createRouter } from '../api.ts'
import type { RequireAuth } from '../auth/middleware.ts'
import { errorResponses, jsonBody, jsonResponse } from './api-shared.ts'

export interface GroupRoutesDeps {
  db: Database
  groups: GroupService
  requireAuth: RequireAuth
}

const GroupIdParam = z.object({
  groupId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/)
    .openapi({ param: { name: 'groupId', in: 'path' }, example: 'grp-3f9a1c2b7d4e' }),
})

const DeviceIds = z
  .array(z.string().min(1).max(64))
  .max(MAX_DEVICES_PER_CALL)
  .openapi({
    description: `device ids, at most ${MAX_DEVICES_PER_CALL}; unknown ones come back in failedDevices`,
  })

const GroupSchema = deviceGroupInfoSchema

const NewGroupSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullish(),
    devices: DeviceIds.optional(),
  })
  .openapi('NewDeviceGroup')

const MembersSchema = z.object({ devices: DeviceIds.min(1) }).openapi('DeviceGroupMembers')

const routes = {
  list: createRoute({
    method: 'get',
    path: '/',
    operationId: 'listDeviceGroups',
    summary: 'List device groups with their sizes',
    responses: {
      200: jsonResponse(z.object({ items: z.array(GroupSchema) }), 'groups'),
      ...errorResponses(401, 403),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{groupId}',
    operationId: 'getDeviceGroup',
    summary: 'Get a device group and its members',
    request: { params: GroupIdParam },
    responses: {
      200: jsonResponse(GroupSchema.extend({ devices: z.array(z.string()) }), 'the group'),
      ...errorResponses(401, 403, 404),
    },
  }),
  create: createRoute({
    method: 'post',
    path: '/',
    operationId: 'createDeviceGroup',
    summary: 'Create a device group',
    request: { body: jsonBody(NewGroupSchema) },
    responses: {
      201: jsonResponse(groupCreateResultSchema, 'created'),
      ...errorResponses(400, 401, 403),
    },
  }),
  add: createRoute({
    method: 'post',
    path: '/{groupId}/add',
    operationId: 'addDeviceGroup',
    summary: 'Add devices to a group',
    request: { params: GroupIdParam, body: jsonBody(MembersSchema) },
    responses: {
      200: jsonResponse(groupAddResultSchema, 'added'),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  subtract: createRoute({
    method: 'post',
    path: '/{groupId}/subtract',
    operationId: 'subtractDeviceGroup',
    summary: 'Remove devices from a group',
    request: { params: GroupIdParam, body: jsonBody(MembersSchema) },
    responses: {
      200: jsonResponse(groupSubtractResultSchema, 'removed'),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  remove: createRoute({
    method: 'delete',
    path: '/{groupId}',
    operationId: 'deleteDeviceGroup',
    summary: 'Delete a device group',
    request: { params: GroupIdParam },
    responses: {
      200: jsonResponse(groupDeleteResultSchema, 'deleted'),
      ...errorResponses(401, 403, 404),
    },
  }),
}

/** `/groups`: source (c)'s device groups (issue 7 points 1 and 5); members may read `groups/<groupId>/#`. */
export function createGroupRoutes(deps: GroupRoutesDeps) {
  const { db, groups } = deps
  const read = deps.requireAuth('read')
  const write = deps.requireAuth('write')
  const router = createRouter()
  router.use('*', (c, next) => (c.req.method === 'GET' || c.req.method === 'HEAD' ? read : write)(c, next))
  const found = <T>(v: T | undefined): T => {
    if (v === undefined) throw Errors.notFound('group')
    return v
  }

  router.openapi(routes.list, (c) => c.json({ items: listGroups(db) }, 200))
  router.openapi(routes.get, (c) => c.json(found(getGroup(db, c.req.valid('param').groupId)), 200))
  router.openapi(routes.create, (c) => {
    const b = c.req.valid('json')
    return c.json(
      groups.create({ name: b.name, description: b.description ?? null, devices: b.devices }),
      201,
    )
  })
  router.openapi(routes.add, (c) => {
    const { groupId } = c.req.valid('param')
    return c.json(found(groups.add(groupId, c.req.valid('json').devices)), 200)
  })
  router.openapi(routes.subtract, (c) => {
    const { groupId } = c.req.valid('param')
    return c.json(found(groups.subtract(groupId, c.req.valid('json').devices)), 200)
  })
  router.openapi(routes.remove, (c) => c.json(found(groups.remove(c.req.valid('param').groupId)), 200))
  return router
}
