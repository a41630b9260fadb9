// The SCIM 2.0 schemas this service provider serves (RFC 7643 §4, §8.7) and its discovery documents:
// ServiceProviderConfig (§5), ResourceTypes (§6) and Schemas (§7). Pure data, built once.
export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  listResponse: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patchOp: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  serviceProviderConfig: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** Largest page a list answers (ServiceProviderConfig filter.maxResults); `count` above it is lowered to it. */
export const MAX_RESULTS = 200;

type Attr = {
  name: string;
  type: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'integer' | 'decimal';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: Attr[];
  referenceTypes?: string[];
  canonicalValues?: string[];
  description?: string;
};

const s = (name: string, extra: Partial<Attr> = {}): Attr => ({ name, type: 'string', ...extra });
const typed = (types: string[]) => s('type', { canonicalValues: types });
const multi = (name: string, types: string[], sub: Attr[] = [s('value')]): Attr => ({
  name,
  type: 'complex',
  multiValued: true,
  subAttributes: [...sub, s('display'), typed(types), { name: 'primary', type: 'boolean' }],
});

const userAttributes: Attr[] = [
  s('userName', {
    required: true,
    uniqueness: 'server',
    description: 'Unique identifier of the user (case-insensitive)',
  }),
  {
    name: 'name',
    type: 'complex',
    subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map(
      (n) => s(n),
    ),
  },
  ...['displayName', 'nickName', 'profileUrl', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone'].map(
    (n) => s(n),
  ),
  { name: 'active', type: 'boolean' },
  s('password', { mutability: 'writeOnly', returned: 'never' }),
  multi('emails', ['work', 'home', 'other']),
  multi('phoneNumbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  multi('ims', ['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo']),
  multi('photos', ['photo', 'thumbnail']),
  multi(
    'addresses',
    ['work', 'home', 'other'],
    ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country'].map((n) => s(n)),
  ),
  {
    name: 'groups',
    type: 'complex',
    multiValued: true,
    mutability: 'readOnly',
    subAttributes: [s('value', { mutability: 'readOnly' }), s('display', { mutability: 'readOnly' })],
  },
  multi('entitlements', []),
  multi('roles', []),
];

const enterpriseAttributes: Attr[] = [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n) => s(n)),
  {
    name: 'manager',
    type: 'complex',
    description: "value: the manager's SCIM id (a user of this endpoint)",
    subAttributes: [
      s('value', { caseExact: true }),
      { name: '$ref', type: 'reference', referenceTypes: ['User'] },
      s('displayName', { mutability: 'readOnly' }),
    ],
  },
];

const groupAttributes: Attr[] = [
  s('displayName', { required: true }),
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    description: 'value: the SCIM id of a user (or group) of this endpoint',
    subAttributes: [
      s('value', { mutability: 'immutable', caseExact: true }),
      { name: '$ref', type: 'reference', referenceTypes: ['User', 'Group'], mutability: 'immutable' },
      s('display', { mutability: 'readOnly' }),
      s('type', { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
    ],
  },
];

/** RFC 7643 §7 defaults, filled in for every attribute. */
function full(a: Attr): Record<string, unknown> {
  return {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued ?? false,
    ...(a.description ? { description: a.description } : {}),
    required: a.required ?? false,
    ...(a.type === 'string' || a.type === 'reference' ? { caseExact: a.caseExact ?? false } : {}),
    ...(a.canonicalValues?.length ? { canonicalValues: a.canonicalValues } : {}),
    ...(a.referenceTypes ? { referenceTypes: a.referenceTypes } : {}),
    mutability: a.mutability ?? 'readWrite',
    returned: a.returned ?? 'default',
    ...(a.type === 'string' ? { uniqueness: a.uniqueness ?? 'none' } : {}),
    ...(a.subAttributes ? { subAttributes: a.subAttributes.map(full) } : {}),
  };
}

const schema = (id: string, name: string, description: string, attributes: Attr[]) => ({
  schemas: [SCIM.schema],
  id,
  name,
  description,
  attributes: attributes.map(full),
  meta: { resourceType: 'Schema', location: `/Schemas/${id}` },
});

export const SCHEMAS = [
  schema(SCIM.user, 'User', 'User Account', userAttributes),
  schema(SCIM.enterprise, 'EnterpriseUser', 'Enterprise User', enterpriseAttributes),
  schema(SCIM.group, 'Group', 'Group', groupAttributes),
];

export const RESOURCE_TYPES = [
  {
    schemas: [SCIM.resourceType],
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account (provisioned to Microsoft 365 as a user)',
    schema: SCIM.user,
    schemaExtensions: [{ schema: SCIM.enterprise, required: false }],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/User' },
  },
  {
    schemas: [SCIM.resourceType],
    id: 'Group',
    name: 'Group',
    endpoint: '/Groups',
    description: 'Group (provisioned to Microsoft 365 as a group)',
    schema: SCIM.group,
    schemaExtensions: [],
    meta: { resourceType: 'ResourceType', location: '/ResourceTypes/Group' },
  },
];

export const SERVICE_PROVIDER_CONFIG = {
  schemas: [SCIM.serviceProviderConfig],
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: MAX_RESULTS },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    {
      type: 'oauthbearertoken',
      name: 'OAuth Bearer Token',
      description:
        'A SCIM token of this connection (POST /api/connections/{id}/scim-token), sent as Authorization: Bearer',
      primary: true,
    },
  ],
  meta: { resourceType: 'ServiceProviderConfig', location: '/ServiceProviderConfig' },
};

/** Top-level attribute names by lower case, so `USERNAME` or `emails` in any case names the attribute (§2.1). */
const KNOWN: Record<'user' | 'group' | 'enterprise', ReadonlyMap<string, string>> = {
  user: new Map(
    [...userAttributes.map((a) => a.name), 'id', 'externalId', 'meta', 'schemas'].map((n) => [n.toLowerCase(), n]),
  ),
  group: new Map(
    [...groupAttributes.map((a) => a.name), 'id', 'externalId', 'meta', 'schemas'].map((n) => [n.toLowerCase(), n]),
  ),
  enterprise: new Map(enterpriseAttributes.map((a) => [a.name.toLowerCase(), a.name])),
};
const SCHEMA_URNS = new Map(
  [SCIM.user, SCIM.group, SCIM.enterprise].map((urn) => [urn.toLowerCase(), urn] as [string, string]),
);

/** The canonical spelling of a top-level attribute name (unknown names as given). */
export const canonicalName = (kind: 'user' | 'group' | 'enterprise', name: string) =>
  KNOWN[kind].get(name.toLowerCase()) ?? name;

/** The canonical spelling of a known schema URN (unknown URNs as given). */
export const canonicalUrn = (urn: string) => SCHEMA_URNS.get(urn.toLowerCase()) ?? urn;

/** A key that names a schema extension (`urn:…`), not an attribute. */
export const isUrn = (key: string) => /^urn:/i.test(key);
