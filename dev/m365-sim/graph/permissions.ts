// Least-to-most privileged permissions each endpoint accepts, from the "Permissions" table of its Graph
// reference page (user-list, user-post-users, user-update, user-delete, user-assignlicense,
// subscribedsku-list, organization-get, group-*, application-get, directory-deleteditems-*, directoryrole-*).
import type { AccessTokenClaims } from '../identity/signing.js';
import { insufficientPrivileges } from './errors.js';

const DIR_READ = ['Directory.Read.All', 'Directory.ReadWrite.All'];
const DIR_WRITE = ['Directory.ReadWrite.All'];

export const PERMISSIONS = {
  usersRead: ['User.ReadBasic.All', 'User.Read.All', 'User.ReadWrite.All', ...DIR_READ],
  usersWrite: ['User.ReadWrite.All', ...DIR_WRITE],
  licenseRead: ['LicenseAssignment.Read.All', 'User.Read.All', 'User.ReadWrite.All', ...DIR_READ],
  licenseWrite: ['LicenseAssignment.ReadWrite.All', 'User.ReadWrite.All', ...DIR_WRITE],
  organizationRead: ['Organization.Read.All', 'Organization.ReadWrite.All', ...DIR_READ],
  subscribedSkusRead: [
    'LicenseAssignment.Read.All',
    'Organization.Read.All',
    'Organization.ReadWrite.All',
    ...DIR_READ,
  ],
  groupsRead: ['GroupMember.Read.All', 'Group.Read.All', 'Group.ReadWrite.All', ...DIR_READ],
  groupsWrite: ['Group.ReadWrite.All', ...DIR_WRITE],
  membersWrite: ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', ...DIR_WRITE],
  // group-assignlicense.
  groupLicenseWrite: ['LicenseAssignment.ReadWrite.All', 'Group.ReadWrite.All', ...DIR_WRITE],
  rolesRead: ['RoleManagement.Read.Directory', 'RoleManagement.ReadWrite.Directory', ...DIR_READ],
  rolesWrite: ['RoleManagement.ReadWrite.Directory'],
  applicationsRead: ['Application.Read.All', 'Application.ReadWrite.All', ...DIR_READ],
  // domain-get lists exactly these (Directory.ReadWrite.All is not among them).
  domainsRead: ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All'],
} as const;

export function grantedPermissions(auth: AccessTokenClaims): Set<string> {
  const granted = auth.idtyp === 'app' ? (auth.roles ?? []) : (auth.scp ?? '').split(' ');
  return new Set(granted.filter(Boolean).map((p) => p.toLowerCase()));
}

export function requireAnyPermission(auth: AccessTokenClaims, accepted: readonly string[]): void {
  const granted = grantedPermissions(auth);
  if (!accepted.some((p) => granted.has(p.toLowerCase()))) throw insufficientPrivileges();
}
