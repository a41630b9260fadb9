// SCIM /Users and /Groups (RFC 7644 §3): list (filter, paging, attributes), create, get, replace (PUT), PATCH,
// delete, for each of the two resource types, declared from one table. Users answer a PATCH with the resource
// (200), groups with 204 (as Entra ID and Okta expect).
import type { HttpMethod } from '@azure/functions';
import { z } from 'zod';
import {
  createScimGroup,
  deleteScimGroup,
  getScimGroup,
  listScimGroups,
  updateScimGroup,
} from '../../shared/provisioning/scim/scim-groups.js';
import type { ListQuery, ScimDeps, ScimRequest } from '../../shared/provisioning/scim/scim-resources.js';
import {
  createScimUser,
  deleteScimUser,
  getScimUser,
  listScimUsers,
  updateScimUser,
} from '../../shared/provisioning/scim/scim-users.js';
import type { HttpFunctionDefinition, OpenApiResponse } from '../define.js';
import { listQueryOf, readScimBody, scimFunction, scimIdOf, scimResponse } from '../scim-support.js';
import { services } from '../services.js';

const scimError = z
  .object({
    schemas: z.array(z.string()),
    status: z.string().describe('The HTTP status, as a string'),
    scimType: z.string().optional(),
    detail: z.string(),
  })
  .describe('urn:ietf:params:scim:api:messages:2.0:Error');
const error = (description: string): OpenApiResponse => ({ description, schema: scimError });
const userSchema = z
  .looseObject({
    schemas: z.array(z.string()).optional(),
    userName: z.string(),
    externalId: z.string().optional(),
    name: z.looseObject({ givenName: z.string().optional(), familyName: z.string().optional() }).optional(),
    displayName: z.string().optional(),
    active: z.union([z.boolean(), z.string()]).optional(),
    emails: z.array(z.looseObject({ value: z.string(), type: z.string().optional() })).optional(),
    password: z.string().optional(),
  })
  .describe('A SCIM User (RFC 7643 §4.1, with the enterprise extension)');
const groupSchema = z
  .looseObject({
    schemas: z.array(z.string()).optional(),
    displayName: z.string(),
    externalId: z.string().optional(),
    members: z.array(z.looseObject({ value: z.string() })).optional(),
  })
  .describe('A SCIM Group (RFC 7643 §4.2)');
const patchSchema = z
  .looseObject({
    schemas: z.array(z.string()).optional(),
    Operations: z.array(z.looseObject({ op: z.string(), path: z.string().optional(), value: z.unknown().optional() })),
  })
  .describe('A SCIM PatchOp (RFC 7644 §3.5.2)');
const listSchema = z.object({
  schemas: z.array(z.string()),
  totalResults: z.number(),
  startIndex: z.number(),
  itemsPerPage: z.number(),
  Resources: z.array(z.unknown()),
});
const listQuerySchema = z.object({
  filter: z.string().optional().describe('e.g. userName eq "a@contoso.com", emails[type eq "work"].value eq "…"'),
  startIndex: z.string().optional().describe('1-based'),
  count: z.string().optional().describe('At most 200'),
  attributes: z.string().optional(),
  excludedAttributes: z.string().optional().describe('e.g. members'),
});
const attributesQuerySchema = listQuerySchema.pick({ attributes: true, excludedAttributes: true });
const common = {
  401: error('No token, or not a token of this connection'),
  404: error('No such connection or resource'),
};

interface Kind {
  name: 'users' | 'groups';
  path: 'Users' | 'Groups';
  label: 'User' | 'Group';
  schema: z.ZodType;
  list(deps: ScimDeps, at: ScimRequest, query: ListQuery): Promise<unknown>;
  create(deps: ScimDeps, at: ScimRequest, body: unknown): Promise<Record<string, unknown>>;
  get(deps: ScimDeps, at: ScimRequest, id: string, q: ListQuery): Promise<unknown>;
  update(deps: ScimDeps, at: ScimRequest, id: string, how: { replace: unknown } | { patch: unknown }): Promise<unknown>;
  remove(deps: ScimDeps, at: ScimRequest, id: string): Promise<void>;
  /** Status of a PATCH answer: 200 with the resource, or 204. */
  patchStatus: 200 | 204;
}

const KINDS: Kind[] = [
  {
    name: 'users',
    path: 'Users',
    label: 'User',
    schema: userSchema,
    list: listScimUsers,
    create: createScimUser,
    get: getScimUser,
    update: updateScimUser,
    remove: deleteScimUser,
    patchStatus: 200,
  },
  {
    name: 'groups',
    path: 'Groups',
    label: 'Group',
    schema: groupSchema,
    list: listScimGroups,
    create: createScimGroup,
    get: getScimGroup,
    update: updateScimGroup,
    remove: deleteScimGroup,
    patchStatus: 204,
  },
];

function functionsOf(k: Kind): HttpFunctionDefinition[] {
  const item = `${k.path}/{scimId}`;
  const one = (name: string, route: string, method: HttpMethod) => ({
    name: `scim-${k.name}-${name}`,
    route,
    methods: [method],
  });
  return [
    scimFunction({
      ...one('list', k.path, 'GET'),
      handler: async (request, at) => scimResponse(200, await k.list(services(), at, listQueryOf(request))),
      openapi: {
        summary: `SCIM: list or filter ${k.path} (ListResponse; an empty result is totalResults 0)`,
        query: listQuerySchema,
        responses: {
          200: { description: 'ListResponse', schema: listSchema },
          400: error('invalidFilter, invalidValue'),
          ...common,
        },
      },
    }),
    scimFunction({
      ...one('create', k.path, 'POST'),
      handler: async (request, at) => {
        const created = await k.create(services(), at, await readScimBody(request));
        const meta = created.meta as { location: string; version: string };
        return scimResponse(201, created, { location: meta.location, etag: meta.version });
      },
      openapi: {
        summary: `SCIM: create a ${k.label} (its changes go through the same pipeline as POST …/changes)`,
        request: k.schema,
        requestTypes: ['application/scim+json', 'application/json'],
        responses: {
          201: { description: `The ${k.label} as stored, with Location`, schema: k.schema },
          400: error('invalidValue, invalidSyntax'),
          409: error('uniqueness: the userName is taken'),
          ...common,
        },
      },
    }),
    scimFunction({
      ...one('get', item, 'GET'),
      handler: async (request, at) => {
        const found = (await k.get(services(), at, scimIdOf(request, k.label), listQueryOf(request))) as {
          meta?: { version?: string };
        };
        return scimResponse(200, found, found.meta?.version ? { etag: found.meta.version } : {});
      },
      openapi: {
        summary: `SCIM: one ${k.label}`,
        query: attributesQuerySchema,
        responses: { 200: { description: k.label, schema: k.schema }, ...common },
      },
    }),
    scimFunction({
      ...one('replace', item, 'PUT'),
      handler: async (request, at) =>
        scimResponse(
          200,
          await k.update(services(), at, scimIdOf(request, k.label), { replace: await readScimBody(request) }),
        ),
      openapi: {
        summary: `SCIM: replace a ${k.label} (PUT, as Okta sends it)`,
        request: k.schema,
        requestTypes: ['application/scim+json', 'application/json'],
        responses: {
          200: { description: k.label, schema: k.schema },
          400: error('invalidValue'),
          409: error('uniqueness'),
          ...common,
        },
      },
    }),
    scimFunction({
      ...one('patch', item, 'PATCH'),
      handler: async (request, at) => {
        const patched = await k.update(services(), at, scimIdOf(request, k.label), {
          patch: await readScimBody(request),
        });
        return k.patchStatus === 204 ? scimResponse(204) : scimResponse(200, patched);
      },
      openapi: {
        summary: `SCIM: PATCH a ${k.label} (RFC 7644 §3.5.2, with Entra ID's and Okta's forms)`,
        request: patchSchema,
        requestTypes: ['application/scim+json', 'application/json'],
        responses: {
          ...(k.patchStatus === 204
            ? { 204: { description: 'Patched' } }
            : { 200: { description: k.label, schema: k.schema } }),
          400: error('invalidSyntax, invalidPath, noTarget, mutability, invalidValue'),
          409: error('uniqueness'),
          ...common,
        },
      },
    }),
    scimFunction({
      ...one('delete', item, 'DELETE'),
      handler: async (request, at) => {
        await k.remove(services(), at, scimIdOf(request, k.label));
        return scimResponse(204);
      },
      openapi: {
        summary: `SCIM: delete a ${k.label} (its remove, per the connection's remove action; 404 afterwards)`,
        responses: { 204: { description: 'Deleted' }, ...common },
      },
    }),
  ];
}

export const scimResourceFunctions: HttpFunctionDefinition[] = KINDS.flatMap(functionsOf);
