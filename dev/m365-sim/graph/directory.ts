// GET /organization (organization-list), applications (application-get; `applications(appId='…')` is the
// alternate key), and deleted items (directory-deleteditems-list / -get / -restore / -delete).
import type { UserRecord } from '../state.js';
import { GraphError, objectConflict, resourceNotFound } from './errors.js';
import { contextUrl, parseSelect, project } from './odata.js';
import { PERMISSIONS } from './permissions.js';
import type { GraphCall, GraphResult, GraphRoute } from './types.js';
import { USER_TYPE, userView } from './user-view.js';

function organization(call: GraphCall): GraphResult {
  const t = call.tenant;
  const value = [
    {
      id: t.id,
      displayName: t.displayName,
      createdDateTime: new Date(t.createdDateTime).toISOString(),
      tenantType: 'AAD',
      countryLetterCode: 'US',
      verifiedDomains: t.domains.map((d) => ({
        capabilities: d.isInitial ? 'Email, OfficeCommunicationsOnline' : 'Email',
        isDefault: d.isDefault,
        isInitial: d.isInitial,
        name: d.name,
        type: d.type,
      })),
    },
  ];
  return { status: 200, body: { '@odata.context': contextUrl(call, 'organization'), value } };
}

function applicationBody(call: GraphCall, appKey: { appId?: string; id?: string }): Record<string, unknown> {
  const app = [...call.tenant.apps.values()].find((a) =>
    appKey.appId ? a.appId === appKey.appId.toLowerCase() : a.id === appKey.id?.toLowerCase(),
  );
  if (!app) throw resourceNotFound(appKey.appId ?? appKey.id ?? '');
  const data: Record<string, unknown> = {
    id: app.id,
    appId: app.appId,
    displayName: app.displayName,
    createdDateTime: new Date(app.createdDateTime).toISOString(),
    signInAudience: 'AzureADMultipleOrgs',
    web: { redirectUris: app.redirectUris },
    // Secret values are never returned after creation: only `hint`, the first three characters (passwordCredential).
    passwordCredentials: app.secrets.map((s) => ({
      customKeyIdentifier: null,
      displayName: s.displayName,
      endDateTime: new Date(s.endDateTime).toISOString(),
      hint: s.hint,
      keyId: s.keyId,
      secretText: null,
      startDateTime: new Date(s.startDateTime).toISOString(),
    })),
  };
  const select = parseSelect(call.query, 'microsoft.graph.application');
  return {
    '@odata.context': contextUrl(call, 'applications/$entity'),
    ...(select ? project('microsoft.graph.application', data, select) : data),
  };
}

function deletedUsers(call: GraphCall): GraphResult {
  call.tenant.purgeExpired(call.now);
  const select = parseSelect(call.query, USER_TYPE);
  const value = [...call.tenant.deletedItems.values()]
    .filter((i) => i.kind === 'user')
    .map((i) => ({
      ...userView(call.tenant, i.record as UserRecord, select),
      deletedDateTime: new Date(i.deletedAt).toISOString(),
    }));
  return {
    status: 200,
    body: { '@odata.context': contextUrl(call, 'directory/deletedItems/microsoft.graph.user'), value },
  };
}

function deletedItem(call: GraphCall, id: string) {
  call.tenant.purgeExpired(call.now);
  const item = call.tenant.deletedItems.get(id.toLowerCase());
  if (!item) throw resourceNotFound(id);
  return item;
}

function getDeletedItem(call: GraphCall, [id]: string[]): GraphResult {
  const item = deletedItem(call, id!);
  if (item.kind !== 'user')
    return { status: 200, body: { '@odata.type': '#microsoft.graph.group', ...item.record.data } };
  return {
    status: 200,
    body: {
      '@odata.type': '#microsoft.graph.user',
      ...userView(call.tenant, item.record as UserRecord, undefined),
      deletedDateTime: new Date(item.deletedAt).toISOString(),
    },
  };
}

function restore(call: GraphCall, [id]: string[]): GraphResult {
  const item = deletedItem(call, id!);
  if (item.kind !== 'user') throw new GraphError(501, 'NotImplemented', 'The simulated tenant restores users only.');
  const user = item.record as UserRecord;
  // Someone may have taken the UPN meanwhile (directory-deleteditems-restore: conflicts fail the restore).
  if (call.tenant.users.findBy('userPrincipalName', String(user.data.userPrincipalName)).length > 0)
    throw objectConflict('userPrincipalName');
  call.tenant.restoreUser(user, call.now);
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'directoryObjects/$entity'),
      '@odata.type': '#microsoft.graph.user',
      ...userView(call.tenant, user, undefined),
    },
  };
}

function permanentlyDelete(call: GraphCall, [id]: string[]): GraphResult {
  const item = deletedItem(call, id!);
  call.tenant.hardDelete(item.record.id);
  return { status: 204 };
}

const GUID = '([0-9a-fA-F-]{36})';

export const directoryRoutes: GraphRoute[] = [
  { method: 'GET', pattern: /^\/organization$/, permissions: PERMISSIONS.organizationRead, handle: organization },
  {
    method: 'GET',
    pattern: /^\/applications\(appId='([^']+)'\)$/,
    permissions: PERMISSIONS.applicationsRead,
    handle: (call, [appId]) => ({ status: 200, body: applicationBody(call, { appId }) }),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/applications/${GUID}$`),
    permissions: PERMISSIONS.applicationsRead,
    handle: (call, [id]) => ({ status: 200, body: applicationBody(call, { id }) }),
  },
  {
    method: 'GET',
    pattern: /^\/directory\/deletedItems\/microsoft\.graph\.user$/,
    permissions: PERMISSIONS.usersRead,
    handle: deletedUsers,
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/directory/deletedItems/${GUID}$`),
    permissions: PERMISSIONS.usersRead,
    handle: getDeletedItem,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/directory/deletedItems/${GUID}/restore$`),
    permissions: PERMISSIONS.usersWrite,
    handle: restore,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/directory/deletedItems/${GUID}$`),
    permissions: PERMISSIONS.usersWrite,
    handle: permanentlyDelete,
  },
];
