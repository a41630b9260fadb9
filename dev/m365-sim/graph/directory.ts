// GET /organization (organization-list), applications (application-get; `applications(appId='…')` is the
// alternate key), and deleted items (directory-deleteditems-list / -get / -restore / -delete): users, and Microsoft
// 365 and security groups (group-delete: "both Microsoft 365 and security groups are moved to a temporary container
// and can be restored within 30 days … This doesn't apply to Distribution groups").
import type { DeletedItem, GroupRecord, UserRecord } from '../state.js';
import { objectConflict, resourceNotFound } from './errors.js';
import { GROUP_TYPE, groupView } from './group-view.js';
import { contextUrl, parseSelect, project } from './odata.js';
import { PERMISSIONS, requireAnyPermission } from './permissions.js';
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

/** A deleted item as Graph shows it: the object with its type and deletedDateTime. */
function deletedView(call: GraphCall, item: DeletedItem, select: string[] | undefined): Record<string, unknown> {
  const deletedDateTime = new Date(item.deletedAt).toISOString();
  const body =
    item.kind === 'user'
      ? userView(call.tenant, item.record as UserRecord, select)
      : groupView(call.tenant, item.record as GroupRecord, select);
  return {
    '@odata.type': `#microsoft.graph.${item.kind}`,
    ...body,
    ...(!select || select.includes('deletedDateTime') ? { deletedDateTime } : {}),
  };
}

/** GET /directory/deletedItems/microsoft.graph.user | microsoft.graph.group (directory-deleteditems-list). */
function listDeleted(kind: DeletedItem['kind']) {
  return (call: GraphCall): GraphResult => {
    call.tenant.purgeExpired(call.now);
    const select = parseSelect(call.query, kind === 'user' ? USER_TYPE : GROUP_TYPE);
    const value = [...call.tenant.deletedItems.values()]
      .filter((i) => i.kind === kind)
      .map((i) => {
        const { '@odata.type': _type, ...rest } = deletedView(call, i, select);
        return rest;
      });
    return {
      status: 200,
      body: { '@odata.context': contextUrl(call, `directory/deletedItems/microsoft.graph.${kind}`), value },
    };
  };
}

/** The deleted item, if the caller may see its kind (users: User.* / Directory.*; groups: Group.* / Directory.*). */
function deletedItem(call: GraphCall, id: string, write: boolean) {
  call.tenant.purgeExpired(call.now);
  const item = call.tenant.deletedItems.get(id.toLowerCase());
  if (!item) throw resourceNotFound(id);
  const needed =
    item.kind === 'user'
      ? write
        ? PERMISSIONS.usersWrite
        : PERMISSIONS.usersRead
      : write
        ? PERMISSIONS.groupsWrite
        : PERMISSIONS.groupsRead;
  requireAnyPermission(call.auth, needed);
  return item;
}

function getDeletedItem(call: GraphCall, [id]: string[]): GraphResult {
  const item = deletedItem(call, id!, false);
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'directory/deletedItems/$entity'),
      ...deletedView(call, item, parseSelect(call.query, item.kind === 'user' ? USER_TYPE : GROUP_TYPE)),
    },
  };
}

/**
 * directory-deleteditems-restore: users and groups (Microsoft 365 and security groups; distribution groups are
 * never in deleted items). Someone may have taken a unique value meanwhile: the restore then fails.
 */
function restore(call: GraphCall, [id]: string[]): GraphResult {
  const item = deletedItem(call, id!, true);
  const { tenant } = call;
  if (item.kind === 'user') {
    const user = item.record as UserRecord;
    if (tenant.users.findBy('userPrincipalName', String(user.data.userPrincipalName)).length > 0)
      throw objectConflict('userPrincipalName');
    tenant.restoreUser(user, call.now, call.now + call.ctx.settings.groupLicenseDelayMs);
  } else {
    const group = item.record as GroupRecord;
    const mail = group.data.mail;
    if (typeof mail === 'string' && tenant.groups.findBy('proxyAddresses', `smtp:${mail}`).length > 0)
      throw objectConflict('proxyAddresses');
    tenant.restoreGroup(group, call.now, call.now + call.ctx.settings.groupLicenseDelayMs);
  }
  return {
    status: 200,
    body: {
      '@odata.context': contextUrl(call, 'directoryObjects/$entity'),
      '@odata.type': `#microsoft.graph.${item.kind}`,
      ...(item.kind === 'user'
        ? userView(tenant, item.record as UserRecord, undefined)
        : groupView(tenant, item.record as GroupRecord, undefined)),
    },
  };
}

function permanentlyDelete(call: GraphCall, [id]: string[]): GraphResult {
  const item = deletedItem(call, id!, true);
  call.tenant.hardDelete(item.record.id);
  return { status: 204 };
}

const GUID = '([0-9a-fA-F-]{36})';
const anyOf = (...lists: ReadonlyArray<readonly string[]>) => [...new Set(lists.flat())];

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
    handle: listDeleted('user'),
  },
  {
    method: 'GET',
    pattern: /^\/directory\/deletedItems\/microsoft\.graph\.group$/,
    permissions: PERMISSIONS.groupsRead,
    handle: listDeleted('group'),
  },
  {
    method: 'GET',
    pattern: new RegExp(`^/directory/deletedItems/${GUID}$`),
    permissions: anyOf(PERMISSIONS.usersRead, PERMISSIONS.groupsRead),
    handle: getDeletedItem,
  },
  {
    method: 'POST',
    pattern: new RegExp(`^/directory/deletedItems/${GUID}/restore$`),
    permissions: anyOf(PERMISSIONS.usersWrite, PERMISSIONS.groupsWrite),
    handle: restore,
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`^/directory/deletedItems/${GUID}$`),
    permissions: anyOf(PERMISSIONS.usersWrite, PERMISSIONS.groupsWrite),
    handle: permanentlyDelete,
  },
];
