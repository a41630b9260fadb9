// What the directory sets on a group it creates, and the group kinds Graph treats differently.
// - Default properties: group resource ("Properties", returned by default) and the 201 bodies of group-post-groups:
//   renewedDateTime = createdDateTime, securityIdentifier S-1-12-1-…, empty collections, visibility Public for a
//   Microsoft 365 group and Private for a security group ("If visibility value is not specified during group
//   creation …").
// - A Microsoft 365 group (groupTypes ["Unified"], mail-enabled) gets mail and proxyAddresses from mailNickname and
//   the tenant's default domain; an address taken already gets digits appended (group-post-groups example 1:
//   mailNickname "library", mail "library7423@contoso.com").
// - Kinds (groups-overview, "Group types in Microsoft Entra ID and Microsoft Graph"): Microsoft 365 groups and
//   security groups are managed through Graph; mail-enabled security groups and distribution groups are read-only.
import { createHash } from 'node:crypto';
import type { TenantState } from './state.js';

type GroupData = Record<string, unknown>;

export const isUnified = (data: GroupData): boolean =>
  Array.isArray(data.groupTypes) && data.groupTypes.includes('Unified');

/** Mail-enabled security groups and distribution groups: read-only through Microsoft Graph (groups-overview). */
export const isReadOnlyMailGroup = (data: GroupData): boolean => data.mailEnabled === true && !isUnified(data);

/** Distribution groups are permanently deleted at once; other groups go to deleted items (group-delete). */
export const isDistributionGroup = (data: GroupData): boolean =>
  isReadOnlyMailGroup(data) && data.securityEnabled !== true;

/**
 * A cloud group's SID is S-1-12-1 followed by its object id as four little-endian 32-bit numbers (group-post-groups
 * example 2: 21d05557-b7b6-418f-86fa-a3118d751be4 → S-1-12-1-567301463-1099937718-295959174-3827004813).
 */
export function securityIdentifier(id: string): string {
  const hex = id.replace(/-/g, '');
  // GUID byte order: the first three fields are little-endian, the last eight bytes as written.
  const bytes = Buffer.from(
    hex.slice(6, 8) +
      hex.slice(4, 6) +
      hex.slice(2, 4) +
      hex.slice(0, 2) +
      hex.slice(10, 12) +
      hex.slice(8, 10) +
      hex.slice(14, 16) +
      hex.slice(12, 14) +
      hex.slice(16),
    'hex',
  );
  const parts = [0, 4, 8, 12].map((offset) => bytes.readUInt32LE(offset));
  return `S-1-12-1-${parts.join('-')}`;
}

function addressTaken(tenant: TenantState, address: string): boolean {
  return (
    tenant.users.findBy('mail', address).length > 0 ||
    tenant.users.findBy('proxyAddresses', `smtp:${address}`).length > 0 ||
    tenant.groups.findBy('mail', address).length > 0 ||
    tenant.groups.findBy('proxyAddresses', `smtp:${address}`).length > 0
  );
}

/** `mailNickname@defaultDomain`, or with four digits appended when another object has that address. */
export function groupMailAddress(tenant: TenantState, mailNickname: string, id: string): string {
  const domain = tenant.defaultDomain;
  let address = `${mailNickname}@${domain}`;
  for (let attempt = 0; addressTaken(tenant, address); attempt++) {
    const digits = parseInt(createHash('sha256').update(`${id}|${attempt}`).digest('hex').slice(0, 8), 16) % 10000;
    address = `${mailNickname}${String(digits).padStart(4, '0')}@${domain}`;
  }
  return address;
}

/**
 * The stored properties of a new group: what the client gave plus what the directory sets. Unset properties stay
 * out of the stored data; reads answer them as null (or [] for collections), as Graph does.
 */
export function completeGroupData(tenant: TenantState, props: GroupData, id: string, createdIso: string): GroupData {
  const data: GroupData = {
    groupTypes: [],
    createdDateTime: createdIso,
    renewedDateTime: createdIso,
    securityIdentifier: securityIdentifier(id),
    ...props,
  };
  data.visibility ??= isUnified(data) ? 'Public' : 'Private';
  if (data.mailEnabled === true && typeof data.mailNickname === 'string') {
    // Exchange sets the address; a seeded mail-enabled security group or distribution group may name its own.
    data.mail ??= groupMailAddress(tenant, data.mailNickname, id);
    data.proxyAddresses ??= [`SMTP:${String(data.mail)}`];
  }
  return data;
}
