// GET /domains/{id} (domain-get): one of the tenant's domains by its fully qualified name, with the properties of
// the domain resource (resources/domain). The seed's verified domains are the tenant's domains: all verified and
// root; `authenticationType` is the seed's `type` (Managed or Federated).
import { GraphError, resourceNotFound } from './errors.js';
import { contextUrl } from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';

/** The domain resource's properties (resources/domain, v1.0); the CSDL extract does not carry this type. */
const DOMAIN_PROPERTIES = [
  'authenticationType',
  'availabilityStatus',
  'id',
  'isAdminManaged',
  'isDefault',
  'isInitial',
  'isRoot',
  'isVerified',
  'passwordNotificationWindowInDays',
  'passwordValidityPeriodInDays',
  'state',
  'supportedServices',
] as const;

function getDomain(call: GraphCall, [id]: string[]): GraphResult {
  const domain = call.tenant.findDomain(id!);
  if (!domain) throw resourceNotFound(id!);
  const data: Record<string, unknown> = {
    authenticationType: domain.type,
    availabilityStatus: null,
    id: domain.name,
    isAdminManaged: true,
    isDefault: domain.isDefault,
    isInitial: domain.isInitial,
    isRoot: true,
    isVerified: true,
    passwordNotificationWindowInDays: null,
    passwordValidityPeriodInDays: null,
    state: null,
    supportedServices: domain.isInitial ? ['Email', 'OfficeCommunicationsOnline'] : ['Email'],
  };
  const select = selected(call.query);
  const body = select ? Object.fromEntries(select.map((p) => [p, data[p]])) : data;
  return { status: 200, body: { '@odata.context': contextUrl(call, 'domains/$entity'), ...body } };
}

function selected(query: URLSearchParams): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const props = raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = props.find((p) => !(DOMAIN_PROPERTIES as readonly string[]).includes(p));
  if (unknown)
    throw new GraphError(
      400,
      'BadRequest',
      `Parsing OData Select and Expand failed: Could not find a property named '${unknown}' on type 'microsoft.graph.domain'.`,
    );
  return props;
}

export const domainRoutes: GraphRoute[] = [
  { method: 'GET', pattern: /^\/domains\/([^/]+)$/, permissions: PERMISSIONS.domainsRead, handle: getDomain },
];
