/**
 * What a field mapping may write on a Microsoft Graph `user`: the writable properties with their EDM types.
 * The data is generated (graph-user-properties.json, by scripts/generate-graph-user-properties.ts from the simulator's CSDL
 * extract and the documented read-only lists); a unit test regenerates it and fails if the two drift.
 */
import data from './graph-user-properties.json' with { type: 'json' };

export interface GraphUserPropertyType {
  /** EDM type of the value; for collections the element type (`businessPhones` is `Edm.String` + collection). */
  type: string;
  collection: boolean;
  nullable: boolean;
}

/**
 * Properties POST /users needs ("Create user", https://learn.microsoft.com/graph/api/user-post-users; also
 * docs/graph-behaviour.md): accountEnabled, displayName, mailNickname, userPrincipalName and a
 * passwordProfile with a password. `passwordProfile.forceChangePasswordNextSignIn` is not listed: the mapping
 * always supplies it (its own rule, else `Mapping.forceChangePasswordNextSignIn`).
 */
export const REQUIRED_ON_CREATE = [
  'accountEnabled',
  'displayName',
  'mailNickname',
  'userPrincipalName',
  'passwordProfile.password',
] as const;
export type RequiredOnCreate = (typeof REQUIRED_ON_CREATE)[number];

const WRITABLE: ReadonlyMap<string, GraphUserPropertyType> = new Map(
  Object.entries(data.properties).map(([name, p]) => [
    name,
    Object.freeze({ type: p.type, collection: p.collection, nullable: p.nullable }),
  ]),
);
const READ_ONLY: ReadonlySet<string> = new Set(data.readOnly);
const NOT_MAPPABLE: ReadonlySet<string> = new Set(data.notMappable);
/** Complex properties that are mapped field by field (`passwordProfile` → `passwordProfile.password`, …). */
const COMPLEX_FIELDS: ReadonlyMap<string, readonly string[]> = (() => {
  const out = new Map<string, string[]>();
  for (const name of WRITABLE.keys()) {
    const dot = name.indexOf('.');
    if (dot < 0) continue;
    const parent = name.slice(0, dot);
    out.set(parent, [...(out.get(parent) ?? []), name]);
  }
  return out;
})();

/**
 * Mapping targets: every client-writable property of `microsoft.graph.user` that holds a primitive value or a
 * collection of them, plus the fields of flat complex properties as dotted names (`passwordProfile.password`,
 * `passwordProfile.forceChangePasswordNextSignIn`, `passwordProfile.forceChangePasswordNextSignInWithMfa`,
 * `employeeOrgData.division`, `onPremisesExtensionAttributes.extensionAttribute1`, …).
 */
export function writableUserProperties(): ReadonlyMap<string, GraphUserPropertyType> {
  return WRITABLE;
}

/** Declared on the user type but never writable by a client (`id`, `assignedLicenses`, `proxyAddresses`, …). */
export const isReadOnlyUserProperty = (name: string): boolean => READ_ONLY.has(name);

/** Writable, but not as one mapped value (e.g. `identities`, `mailboxSettings`). */
export const isNotMappableUserProperty = (name: string): boolean => NOT_MAPPABLE.has(name);

/** For a complex property mapped field by field, its dotted targets; otherwise undefined. */
export const complexUserPropertyFields = (name: string): readonly string[] | undefined => COMPLEX_FIELDS.get(name);

/**
 * Maximum lengths (characters) that the Graph docs state for writable user properties ("user resource type",
 * learn.microsoft.com/graph/api/resources/user, each property's description: "Maximum length is N characters").
 * The password's 256 is Entra's password policy (concept-sspr-policy). Properties the docs give no limit for are
 * not listed: Graph decides those.
 */
export const USER_PROPERTY_MAX_LENGTH: Readonly<Record<string, number>> = Object.freeze({
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
  'passwordProfile.password': 256,
});
