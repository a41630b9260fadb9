// /users: list (user-list), get (user-get), create (user-post-users), update (user-update), delete
// (user-delete: soft delete into deletedItems for 30 days).
import { validateEntityBody } from '../graph-schema/validate-body.js';
import type { TenantState, UserRecord } from '../state.js';
import { badRequest, GraphError, insufficientPrivileges, objectConflict, resourceNotFound } from './errors.js';
import { contextUrl, listPage, parseFilter, parseSelect, parseTop, rejectUnsupportedOptions } from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import {
  FILTERABLE_USER_PROPERTIES,
  findUser,
  SINGLE_USER_ONLY_PROPERTIES,
  USER_TYPE,
  userData,
  userView,
} from './user-view.js';

/** user-post-users, "Request body": required when creating a user. */
const REQUIRED_ON_CREATE = [
  'accountEnabled',
  'displayName',
  'mailNickname',
  'userPrincipalName',
  'passwordProfile',
] as const;

/**
 * Changing these on a user who holds a privileged admin role needs a higher-privileged *role*; an app
 * permission alone is not enough (user-update, "Who can update sensitive attributes").
 */
const SENSITIVE_PROPERTIES = [
  'accountEnabled',
  'businessPhones',
  'mobilePhone',
  'onPremisesImmutableId',
  'otherMails',
  'passwordProfile',
  'userPrincipalName',
];

/** Mastered on-premises for synced users (user-update: "cannot be updated for synced users"). */
const AD_MASTERED_PROPERTIES = new Set([
  'accountEnabled',
  'displayName',
  'givenName',
  'surname',
  'userPrincipalName',
  'mail',
  'mailNickname',
  'jobTitle',
  'department',
  'employeeId',
  'onPremisesImmutableId',
  'businessPhones',
  'mobilePhone',
  'officeLocation',
  'companyName',
  'city',
  'country',
  'state',
  'streetAddress',
  'postalCode',
]);

export function requireUser(tenant: TenantState, idOrUpn: string): UserRecord {
  const user = findUser(tenant, idOrUpn);
  if (!user) throw resourceNotFound(idOrUpn);
  return user;
}

function asObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('Empty Payload. JSON content expected.');
  return body as Record<string, unknown>;
}

function validateOrThrow(typeName: string, body: unknown, mode: 'create' | 'update'): void {
  const error = validateEntityBody(typeName, body, mode);
  if (error)
    throw new GraphError(
      400,
      error.code,
      error.message,
      error.target ? [{ code: 'InvalidValue', target: error.target }] : undefined,
    );
}

/**
 * Entra's username policy (concept-sspr-policy, "Username policies"): before the "@" only A–Z a–z 0–9 ' . - _ ! # ^ ~,
 * at most 64 characters, not ending in "."; one "@". Graph refuses anything else on create and update.
 */
const UPN_LOCAL_PART = /^[A-Za-z0-9'.\-_!#^~]{1,64}$/;

function checkUpnDomain(tenant: TenantState, upn: string, body: Record<string, unknown>): void {
  const [local = '', ...rest] = upn.split('@');
  if (rest.length !== 1 || !UPN_LOCAL_PART.test(local) || local.endsWith('.')) {
    throw badRequest('Property userPrincipalName is invalid.', [{ code: 'InvalidValue', target: 'userPrincipalName' }]);
  }
  const domain = tenant.findDomain(upn.split('@')[1] ?? '');
  if (!domain) {
    throw badRequest(
      'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
      [{ code: 'InvalidValue', target: 'userPrincipalName' }],
    );
  }
  // A federated domain's users are matched to on-premises accounts by immutable id (user-post-users).
  if (domain.type === 'Federated' && !body.onPremisesImmutableId) {
    throw badRequest(
      "Property 'onPremisesImmutableId' is required when the userPrincipalName uses a federated domain.",
      [{ code: 'InvalidValue', target: 'onPremisesImmutableId' }],
    );
  }
}

/** Unique values across the tenant: UPN, immutable id, and mail against every object's proxyAddresses. */
function checkConflicts(tenant: TenantState, changes: Record<string, unknown>, selfId?: string): void {
  const clash = (property: string, value: unknown) =>
    typeof value === 'string' && tenant.users.findBy(property, value).some((u) => u.id !== selfId);
  if (clash('userPrincipalName', changes.userPrincipalName)) throw objectConflict('userPrincipalName');
  if (clash('onPremisesImmutableId', changes.onPremisesImmutableId)) throw objectConflict('onPremisesImmutableId');
  if (
    clash('proxyAddresses', changes.mail !== undefined ? `SMTP:${String(changes.mail)}` : undefined) ||
    clash('mail', changes.mail)
  )
    throw objectConflict('proxyAddresses');
}

/**
 * Maximum lengths the user resource's docs state for its properties ("Maximum length is N characters",
 * learn.microsoft.com/graph/api/resources/user). Graph refuses a longer value with 400 Request_BadRequest.
 */
const MAX_LENGTH: Readonly<Record<string, number>> = {
  city: 128,
  companyName: 64,
  country: 128,
  department: 64,
  displayName: 256,
  employeeId: 16,
  givenName: 64,
  jobTitle: 128,
  mailNickname: 64,
  mobilePhone: 64,
  postalCode: 40,
  state: 128,
  streetAddress: 1024,
  surname: 64,
};

function checkLengths(body: Record<string, unknown>): void {
  for (const [prop, max] of Object.entries(MAX_LENGTH)) {
    const value = body[prop];
    if (typeof value === 'string' && value.length > max) {
      throw badRequest(`Invalid value specified for property '${prop}' of resource 'User'.`, [
        { code: 'InvalidValue', target: prop },
      ]);
    }
  }
}

/** Password complexity (user-post-users → passwordProfile; Entra password policies: 8–256 chars, 3 of 4 classes). */
function checkPassword(profile: unknown): void {
  const password = (profile as { password?: unknown } | null)?.password;
  if (typeof password !== 'string' || password === '') {
    throw badRequest("Invalid value specified for property 'passwordProfile' of resource 'User'.", [
      { code: 'InvalidValue', target: 'passwordProfile' },
    ]);
  }
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(password)).length;
  if (password.length < 8 || password.length > 256 || classes < 3) {
    throw badRequest(
      'The specified password does not comply with password complexity requirements. Please provide a different password.',
    );
  }
}

/** Stored form of writable input: never the password; proxyAddresses follow mail (read-only through Graph). */
function storedChanges(body: Record<string, unknown>): Record<string, unknown> {
  const { passwordProfile, ...rest } = body;
  const changes: Record<string, unknown> = { ...rest };
  if (passwordProfile && typeof passwordProfile === 'object') {
    const { forceChangePasswordNextSignIn, forceChangePasswordNextSignInWithMfa } = passwordProfile as Record<
      string,
      unknown
    >;
    changes.passwordProfile = {
      forceChangePasswordNextSignIn: forceChangePasswordNextSignIn ?? false,
      forceChangePasswordNextSignInWithMfa: forceChangePasswordNextSignInWithMfa ?? false,
      password: null,
    };
  }
  if ('mail' in body) changes.proxyAddresses = typeof body.mail === 'string' ? [`SMTP:${body.mail}`] : [];
  return changes;
}

function listUsers(call: GraphCall): GraphResult {
  rejectUnsupportedOptions(call);
  const top = parseTop(call.query);
  const select = parseSelect(call.query, USER_TYPE);
  const bad = select?.find((p) => SINGLE_USER_ONLY_PROPERTIES.has(p));
  if (bad)
    throw new GraphError(
      501,
      'NotImplemented',
      `This operation target is not yet supported. Property '${bad}' is only returned for a single user (GET /users/{id}).`,
    );
  const clauses = parseFilter(call.query, USER_TYPE, FILTERABLE_USER_PROPERTIES);
  // assignedLicenses is computed (direct plus active group licences), so such a filter reads the user as Graph shows it.
  const computed = clauses.some((c) => c.property === 'assignedLicenses');
  const { items, next } = listPage(
    call,
    call.tenant.users,
    clauses,
    top,
    computed ? (u) => userData(call.tenant, u) : undefined,
  );
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(call, select ? `users(${select.join(',')})` : 'users'),
  };
  if (next) body['@odata.nextLink'] = next;
  body.value = items.map((u) => userView(call.tenant, u, select));
  return { status: 200, body };
}

function getUser(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const select = parseSelect(call.query, USER_TYPE);
  const user = requireUser(call.tenant, idOrUpn!);
  return {
    status: 200,
    body: { '@odata.context': contextUrl(call, 'users/$entity'), ...userView(call.tenant, user, select) },
  };
}

function createUser(call: GraphCall): GraphResult {
  const body = asObject(call.body);
  validateOrThrow(USER_TYPE, body, 'create');
  for (const prop of REQUIRED_ON_CREATE) {
    if (body[prop] === undefined || body[prop] === null || body[prop] === '') {
      throw badRequest(`Invalid value specified for property '${prop}' of resource 'User'.`, [
        { code: 'InvalidValue', target: prop },
      ]);
    }
  }
  checkLengths(body);
  const upn = String(body.userPrincipalName);
  checkUpnDomain(call.tenant, upn, body);
  checkPassword(body.passwordProfile);
  checkConflicts(call.tenant, body);
  const user = call.tenant.newUser(
    {
      businessPhones: [],
      userType: 'Member',
      createdDateTime: new Date(call.now).toISOString(),
      ...storedChanges(body),
    },
    call.now + call.ctx.settings.replicationDelayMs,
  );
  return {
    status: 201,
    body: { '@odata.context': contextUrl(call, 'users/$entity'), ...userView(call.tenant, user, undefined) },
  };
}

function updateUser(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const user = requireUser(call.tenant, idOrUpn!);
  const body = asObject(call.body);
  validateOrThrow(USER_TYPE, body, 'update');
  if (user.isPrivileged && SENSITIVE_PROPERTIES.some((p) => p in body)) throw insufficientPrivileges();
  if (user.data.onPremisesSyncEnabled === true && Object.keys(body).some((p) => AD_MASTERED_PROPERTIES.has(p))) {
    throw badRequest(
      'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    );
  }
  checkLengths(body);
  if (typeof body.userPrincipalName === 'string')
    checkUpnDomain(call.tenant, body.userPrincipalName, { ...user.data, ...body });
  if ('passwordProfile' in body) checkPassword(body.passwordProfile);
  if (typeof body.usageLocation === 'string' && !/^[A-Z]{2}$/.test(body.usageLocation)) {
    throw badRequest("Invalid value specified for property 'usageLocation' of resource 'User'.", [
      { code: 'InvalidValue', target: 'usageLocation' },
    ]);
  }
  checkConflicts(call.tenant, body, user.id);
  call.tenant.users.update(user, storedChanges(body));
  call.tenant.recordChange('users', user.id);
  return { status: 204 };
}

function deleteUser(call: GraphCall, [idOrUpn]: string[]): GraphResult {
  const user = requireUser(call.tenant, idOrUpn!);
  if (user.isPrivileged) throw insufficientPrivileges();
  call.tenant.softDeleteUser(user, call.now);
  return { status: 204 };
}

const USER = String.raw`/users/([^/]+)`;

export const userRoutes: GraphRoute[] = [
  { method: 'GET', pattern: /^\/users$/, permissions: PERMISSIONS.usersRead, baseCost: 2, handle: listUsers },
  { method: 'POST', pattern: /^\/users$/, permissions: PERMISSIONS.usersWrite, handle: createUser },
  { method: 'GET', pattern: new RegExp(`^${USER}$`), permissions: PERMISSIONS.usersRead, handle: getUser },
  { method: 'PATCH', pattern: new RegExp(`^${USER}$`), permissions: PERMISSIONS.usersWrite, handle: updateUser },
  { method: 'DELETE', pattern: new RegExp(`^${USER}$`), permissions: PERMISSIONS.usersWrite, handle: deleteUser },
];
