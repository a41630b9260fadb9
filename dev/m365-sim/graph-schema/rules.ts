/**
 * Rule data for the simulated tenant's Graph body validation (validate-body.ts): the tables of documented rules
 * that graph-v1.0-schema.json (the CSDL extract) does not carry, each with the document it follows. No logic.
 * - WRITE_RULES: per entity type, the properties a client can never set (read-only), may set only on create or
 *   only on update, the navigation properties that accept `@odata.bind`, and whether extensions are allowed;
 * - DIRECTORY_EXTENSION / SCHEMA_EXTENSION: the names of extension properties;
 * - INT_RANGES and the lexical formats of EDM primitive values in JSON.
 *
 * scripts/generate-graph-user-properties.ts reads the read-only lists (through validate-body's `writableProperties`)
 * to produce shared/domain/mapping/graph-user-properties.json; a unit test fails if the two drift.
 */
import type { WriteRules } from './types.js';

// ---------------------------------------------------------------------------------------------
// Write rules that the CSDL does not carry. Graph's CSDL marks almost nothing on user/group as
// Computed, so the read-only lists come from the docs. Where CSDL and docs disagree, docs win.
// ---------------------------------------------------------------------------------------------

/** Inherited by every directoryObject. */
const DIRECTORY_OBJECT_READ_ONLY = [
  // entity.id: "Key. Not nullable. Read-only." (user/group resource pages).
  'id',
  // directoryObject.deletedDateTime: set by soft-delete and cleared by restore, never by a client
  // (https://learn.microsoft.com/graph/api/resources/directoryobject). Not marked "Read-only" in
  // the table; treated as service-maintained.
  'deletedDateTime',
] as const;

export const WRITE_RULES: Record<string, WriteRules> = {
  'microsoft.graph.user': {
    resource: 'User',
    readOnly: [
      ...DIRECTORY_OBJECT_READ_ONLY,
      // Marked "Read-only" in the Properties table of "user resource type"
      // (https://learn.microsoft.com/graph/api/resources/user?view=graph-rest-1.0).
      'assignedPlans',
      'createdDateTime',
      'creationType',
      'imAddresses',
      'isManagementRestricted',
      'legalAgeGroupClassification',
      'licenseAssignmentStates',
      'onPremisesDistinguishedName',
      'onPremisesDomainName',
      'onPremisesLastSyncDateTime',
      'onPremisesSamAccountName',
      'onPremisesSecurityIdentifier',
      'onPremisesSyncEnabled',
      'onPremisesUserPrincipalName',
      'provisionedPlans',
      'proxyAddresses', // "Read-only in Microsoft Graph; you can update this property only through the Microsoft 365 admin center"
      'securityIdentifier',
      'signInActivity',
      'signInSessionsValidFromDateTime', // "Read-only. Use revokeSignInSessions to reset."
      // Not marked on the page, but Graph answers PATCH with "Property 'assignedLicenses' is
      // read-only and cannot be set." (msgraph-sdk-dotnet#189, microsoft-graph-docs-contrib#8197);
      // licences change only through user: assignLicense
      // (https://learn.microsoft.com/graph/api/user-assignlicense).
      'assignedLicenses',
      // Service-maintained, not in the Update user request body: set by the invitation API
      // (externalUserState*), by password changes, or by sync engines (provisioning errors).
      'externalUserState',
      'externalUserStateChangeDateTime',
      'lastPasswordChangeDateTime',
      'onPremisesProvisioningErrors',
      'serviceProvisioningErrors',
    ],
    // onPremisesImmutableId stays writable: "must be specified when creating a new user account …
    // if you're using a federated domain" (user resource type, Create user).
    // manager@odata.bind: not on the Create/Update user pages (they use PUT /users/{id}/manager/$ref)
    // but accepted by the directory service in practice; allowed so clients that use it are not
    // failed by the simulator for the wrong reason.
    bind: { create: ['manager'], update: ['manager'] },
    extensions: true,
  },
  'microsoft.graph.group': {
    resource: 'Group',
    readOnly: [
      ...DIRECTORY_OBJECT_READ_ONLY,
      // Marked "Read-only" in "group resource type"
      // (https://learn.microsoft.com/graph/api/resources/group?view=graph-rest-1.0).
      'assignedLicenses',
      'createdDateTime',
      'expirationDateTime',
      'isManagementRestricted',
      'licenseProcessingState',
      'mail',
      'onPremisesDomainName',
      'onPremisesLastSyncDateTime',
      'onPremisesNetBiosName',
      'onPremisesSamAccountName',
      'onPremisesSecurityIdentifier',
      'onPremisesSyncEnabled',
      'proxyAddresses',
      'renewedDateTime', // "only updated via the renew service action"
      'securityIdentifier',
      'uniqueName', // "Immutable. Read-only."
      // Not marked, but not client-writable per the same page: filter-only / changed via
      // archiveTeam / written by sync engines.
      'hasMembersWithLicenseErrors',
      'isArchived',
      'onPremisesProvisioningErrors',
      'serviceProvisioningErrors',
    ],
    // "isAssignableToRole … can only be set while creating the group and is immutable";
    // "resourceBehaviorOptions … can be set only as part of creation (POST)" (group resource type).
    createOnly: ['isAssignableToRole', 'resourceBehaviorOptions'],
    // Create group (https://learn.microsoft.com/graph/api/group-post-groups): "The following
    // properties can't be set in the initial POST request and must be set in a subsequent PATCH
    // request: accessType, allowExternalSenders, autoSubscribeNewMembers, hideFromAddressLists,
    // hideFromOutlookClients, isFavorite, isSubscribedByMail, unseenConversationsCount, unseenCount,
    // unseenMessagesCount."
    updateOnly: [
      'accessType',
      'allowExternalSenders',
      'autoSubscribeNewMembers',
      'hideFromAddressLists',
      'hideFromOutlookClients',
      'isFavorite',
      'isSubscribedByMail',
      'unseenConversationsCount',
      'unseenCount',
      'unseenMessagesCount',
    ],
    // Create group shows members@odata.bind / owners@odata.bind; Update group documents
    // "members@odata.bind" to add up to 20 members in one PATCH (group-post-members).
    bind: { create: ['members', 'owners'], update: ['members', 'owners'] },
    extensions: true,
  },
  'microsoft.graph.application': {
    resource: 'Application',
    // "application resource type": appId, createdDateTime, publisherDomain are "Read-only";
    // createdByAppId is CSDL Core.Immutable and documented read-only; disabledByMicrosoftStatus is
    // set by Microsoft.
    readOnly: [
      ...DIRECTORY_OBJECT_READ_ONLY,
      'appId',
      'createdByAppId',
      'createdDateTime',
      'disabledByMicrosoftStatus',
      'publisherDomain',
    ],
    bind: { create: ['owners'] },
    extensions: true,
  },
  'microsoft.graph.organization': {
    resource: 'Organization',
    readOnly: [...DIRECTORY_OBJECT_READ_ONLY],
    // Update organization (https://learn.microsoft.com/graph/api/organization-update) lists the only
    // writable properties; organizations cannot be created through Graph.
    writableOnly: [
      'marketingNotificationEmails',
      'onPremisesSyncEnabled',
      'privacyProfile',
      'securityComplianceNotificationMails',
      'securityComplianceNotificationPhones',
      'technicalNotificationMails',
    ],
    extensions: true,
  },
  // No create/update API exists for these: every property is read-only.
  'microsoft.graph.subscribedSku': { resource: 'SubscribedSku', readOnly: [], writableOnly: [] },
  'microsoft.graph.licenseDetails': { resource: 'LicenseDetails', readOnly: [], writableOnly: [] },
  'microsoft.graph.directoryObject': { resource: 'DirectoryObject', readOnly: [...DIRECTORY_OBJECT_READ_ONLY] },
  'microsoft.graph.entity': { resource: 'Entity', readOnly: ['id'] },
};

/**
 * Directory extension properties are `extension_{appId without dashes}_{name}`
 * (https://learn.microsoft.com/graph/extensibility-overview#directory-microsoft-entra-id-extensions);
 * schema extensions use an `ext{8 chars}_{name}` id with an object value. Whether the extension
 * is registered in the tenant is the handler's business, not this validator's.
 */
export const DIRECTORY_EXTENSION = /^extension_[0-9a-f]{32}_[A-Za-z0-9_]+$/i;
export const SCHEMA_EXTENSION = /^ext[a-z0-9]{8}_[A-Za-z0-9_]+$/;

// ---------------------------------------------------------------------------------------------
// EDM primitive values in JSON: the value ranges of the integer types (OData CSDL, "Primitive
// Types") and the lexical formats of the string-encoded types (OData JSON Format, "Primitive Value").
// ---------------------------------------------------------------------------------------------

/** Edm.Int64 is capped at JavaScript's safe integers: larger values cannot round-trip through JSON.parse. */
export const INT_RANGES: Record<string, readonly [number, number]> = {
  'Edm.Byte': [0, 255],
  'Edm.SByte': [-128, 127],
  'Edm.Int16': [-32768, 32767],
  'Edm.Int32': [-2147483648, 2147483647],
  'Edm.Int64': [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// OData JSON format §7.1: DateTimeOffset is ISO 8601 with a time and an explicit offset.
export const DATE_TIME_OFFSET =
  /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,12})?)?(Z|[+-](\d{2}):(\d{2}))$/i;
export const DATE = /^(-?\d{4,})-(\d{2})-(\d{2})$/;
export const TIME_OF_DAY = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,12})?)?$/;
export const DURATION = /^-?P(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/;
export const BASE64 = /^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2}(?:==)?|[A-Za-z0-9+/_-]{3}=?)?$/;
