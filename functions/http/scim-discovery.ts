// SCIM discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, as lists and one by one.
import { z } from 'zod';
import { ScimError } from '../../shared/domain/scim/scim-error.js';
import { RESOURCE_TYPES, SCHEMAS, SCIM, SERVICE_PROVIDER_CONFIG } from '../../shared/domain/scim/scim-schemas.js';
import type { HttpFunctionDefinition } from '../define.js';
import { scimFunction, scimResponse } from '../scim-support.js';

type Described = { id: string; meta: { location: string } };

/** Locations made absolute for this connection's endpoint. */
const located = <T extends { meta: { location: string } }>(item: T, baseUrl: string): T => ({
  ...item,
  meta: { ...item.meta, location: `${baseUrl}${item.meta.location}` },
});

const listResponse = (items: Described[], baseUrl: string) => ({
  schemas: [SCIM.listResponse],
  totalResults: items.length,
  startIndex: 1,
  itemsPerPage: items.length,
  Resources: items.map((i) => located(i, baseUrl)),
});

const document = z.looseObject({ schemas: z.array(z.string()) });
const unauthorized = { description: 'No token, or not a token of this connection' };

function discovery(name: string, route: string, items: Described[]): HttpFunctionDefinition[] {
  return [
    scimFunction({
      name: `scim-${name.toLowerCase()}-list`,
      route,
      methods: ['GET'],
      handler: async (_request, at) => scimResponse(200, listResponse(items, at.baseUrl)),
      openapi: {
        summary: `SCIM discovery: ${name} (ListResponse)`,
        responses: { 200: { description: 'ListResponse', schema: document }, 401: unauthorized },
      },
    }),
    scimFunction({
      name: `scim-${name.toLowerCase()}-get`,
      route: `${route}/{itemId}`,
      methods: ['GET'],
      handler: async (request, at) => {
        const item = items.find((i) => i.id.toLowerCase() === (request.params.itemId ?? '').toLowerCase());
        if (!item)
          throw new ScimError(404, `No ${name.replace(/s$/, '')} ${(request.params.itemId ?? '').slice(0, 100)}`);
        return scimResponse(200, located(item, at.baseUrl));
      },
      openapi: {
        summary: `SCIM discovery: one of ${name}, by id`,
        responses: {
          200: { description: name, schema: document },
          401: unauthorized,
          404: { description: 'No such one' },
        },
      },
    }),
  ];
}

export const scimDiscoveryFunctions: HttpFunctionDefinition[] = [
  scimFunction({
    name: 'scim-service-provider-config',
    route: 'ServiceProviderConfig',
    methods: ['GET'],
    handler: async (_request, at) => scimResponse(200, located(SERVICE_PROVIDER_CONFIG, at.baseUrl)),
    openapi: {
      summary: 'SCIM discovery: what this service provider supports (PATCH, filter, bearer tokens)',
      responses: { 200: { description: 'ServiceProviderConfig', schema: document }, 401: unauthorized },
    },
  }),
  ...discovery('ResourceTypes', 'ResourceTypes', RESOURCE_TYPES),
  ...discovery('Schemas', 'Schemas', SCHEMAS),
];
