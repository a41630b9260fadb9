import { readFileSync, statSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { WriteMode } from '../../../dev/m365-sim/graph-schema/types.js';
import {
  graphSchema,
  propertyType,
  validateActionBody,
  validateEntityBody,
  writableProperties,
} from '../../../dev/m365-sim/graph-schema/validate-body.js';

const USER = 'microsoft.graph.user';
const GROUP = 'microsoft.graph.group';
const SKU = 'c7df2760-2c81-4ef7-b578-5b5392b571df';
const PLAN = '9aaf7827-d63c-4b61-89c3-182f06f82e5c';

/** The request body of "Create user" example 1 (https://learn.microsoft.com/graph/api/user-post-users). */
const createUserBody = {
  accountEnabled: true,
  displayName: 'Adele Vance',
  mailNickname: 'AdeleV',
  userPrincipalName: 'AdeleV@contoso.com',
  passwordProfile: { forceChangePasswordNextSignIn: true, password: 'xWwvJ]6NMw+bWH-d' },
};

describe('graph-v1.0-schema.json (CSDL extract)', () => {
  const schemaFile = new URL('../../../dev/m365-sim/graph-schema/graph-v1.0-schema.json', import.meta.url);

  test('msgraph-metadata v1.0 CSDL: header names the source CSDL, commit f54f11b6 and the MIT licence; file stays small', () => {
    const s = graphSchema();
    expect(s.$source.commit).toBe('f54f11b6');
    expect(s.$source.license).toBe('MIT');
    expect(s.$source.upstream).toContain('msgraph-metadata');
    expect(statSync(schemaFile).size).toBeLessThan(300_000);
  });

  test('msgraph-metadata v1.0 CSDL: extract keys are sorted (deterministic output)', () => {
    const s = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    const sorted = (o: Record<string, unknown>): boolean => {
      const keys = Object.keys(o);
      return keys.every((k, i) => i === 0 || keys[i - 1]! < k);
    };
    expect(sorted(s)).toBe(true);
    expect(sorted(s.types as Record<string, unknown>)).toBe(true);
  });

  test.each([
    // [type, property, EDM type, collection, nullable] as declared in the CSDL
    [USER, 'accountEnabled', 'Edm.Boolean', false, true],
    [USER, 'businessPhones', 'Edm.String', true, false],
    [USER, 'passwordProfile', 'microsoft.graph.passwordProfile', false, true],
    [USER, 'assignedLicenses', 'microsoft.graph.assignedLicense', true, false],
    [USER, 'employeeOrgData', 'microsoft.graph.employeeOrgData', false, true],
    [USER, 'onPremisesExtensionAttributes', 'microsoft.graph.onPremisesExtensionAttributes', false, true],
    [USER, 'identities', 'microsoft.graph.objectIdentity', true, true],
    [USER, 'deviceEnrollmentLimit', 'Edm.Int32', false, false],
    [USER, 'id', 'Edm.String', false, false], // inherited from entity via directoryObject
    [USER, 'deletedDateTime', 'Edm.DateTimeOffset', false, true], // inherited from directoryObject
    [GROUP, 'groupTypes', 'Edm.String', true, false],
    [GROUP, 'securityEnabled', 'Edm.Boolean', false, true],
    ['microsoft.graph.assignedLicense', 'skuId', 'Edm.Guid', false, true],
    ['microsoft.graph.assignedLicense', 'disabledPlans', 'Edm.Guid', true, false],
    ['microsoft.graph.subscribedSku', 'prepaidUnits', 'microsoft.graph.licenseUnitsDetail', false, true],
    ['microsoft.graph.subscribedSku', 'servicePlans', 'microsoft.graph.servicePlanInfo', true, false],
    ['microsoft.graph.licenseDetails', 'servicePlans', 'microsoft.graph.servicePlanInfo', true, false],
    ['microsoft.graph.organization', 'verifiedDomains', 'microsoft.graph.verifiedDomain', true, false],
    ['microsoft.graph.application', 'passwordCredentials', 'microsoft.graph.passwordCredential', true, false],
  ] as const)('user/group resource types (CSDL): %s.%s is %s', (type, prop, edm, collection, nullable) => {
    const info = propertyType(type, prop);
    expect(info).toMatchObject({ type: edm, collection, nullable });
  });

  test('user resource type: inherited properties resolve to their declaring type', () => {
    expect(propertyType(USER, 'id')?.declaredBy).toBe('microsoft.graph.entity');
    expect(propertyType(USER, 'deletedDateTime')?.declaredBy).toBe('microsoft.graph.directoryObject');
    expect(propertyType(USER, 'nope')).toBeUndefined();
  });

  test('msgraph-metadata v1.0 CSDL: complex types reachable from user/group/organization/subscribedSku are present', () => {
    const types = graphSchema().types;
    for (const t of [
      'passwordProfile',
      'assignedLicense',
      'assignedPlan',
      'servicePlanInfo',
      'licenseUnitsDetail',
      'passwordCredential',
      'objectIdentity',
      'verifiedDomain',
      'onPremisesExtensionAttributes',
      'employeeOrgData',
      'provisionedPlan',
      'licenseAssignmentState',
      'signInActivity',
    ]) {
      expect(types[`microsoft.graph.${t}`], t).toBeDefined();
    }
  });
});

describe('validateEntityBody', () => {
  test('Create user (user-post-users): the documented example body is accepted', () => {
    expect(validateEntityBody(USER, createUserBody, 'create')).toBeUndefined();
  });

  test('Create user (user-post-users): a full body using every kind of writable property is accepted', () => {
    const body = {
      ...createUserBody,
      '@odata.type': '#microsoft.graph.user',
      givenName: 'Adele',
      surname: 'Vance',
      jobTitle: 'Retail Manager',
      department: 'Retail',
      businessPhones: ['+1 425 555 0109'],
      mobilePhone: null,
      usageLocation: 'US',
      employeeId: '1234',
      employeeType: 'Employee',
      employeeHireDate: '2024-01-15T00:00:00Z',
      employeeOrgData: { division: 'Sales', costCenter: 'CC-1' },
      otherMails: ['adele@fabrikam.com'],
      identities: [{ signInType: 'userPrincipalName', issuer: 'contoso.com', issuerAssignedId: 'AdeleV@contoso.com' }],
      onPremisesImmutableId: 'aW1tdXRhYmxl',
      onPremisesExtensionAttributes: { extensionAttribute1: 'x', extensionAttribute15: null },
      passwordPolicies: 'DisablePasswordExpiration',
      preferredLanguage: 'en-US',
      showInAddressList: true,
      extension_b7d8e5fa0a1c4c1e9a3e0f1b2c3d4e5f_costCode: 'A-17',
    };
    expect(validateEntityBody(USER, body, 'create')).toBeUndefined();
  });

  test('Update user (user-update): a PATCH with a subset of properties is accepted', () => {
    expect(validateEntityBody(USER, { jobTitle: 'Director', businessPhones: [] }, 'update')).toBeUndefined();
    expect(validateEntityBody(USER, { employeeLeaveDateTime: null }, 'update')).toBeUndefined();
    expect(validateEntityBody(USER, {}, 'update')).toBeUndefined();
  });

  test.each([
    ['array', []],
    ['string', 'x'],
    ['null', null],
    ['number', 1],
  ])('Create user (user-post-users): a %s body is rejected, only a JSON object is accepted', (_label, body) => {
    expect(validateEntityBody(USER, body, 'create')).toMatchObject({
      code: 'Request_BadRequest',
      message: expect.stringContaining("'StartObject' node was expected"),
    });
  });

  test.each<[string, string, Record<string, unknown>, WriteMode]>([
    [USER, 'foo', { foo: 'bar' }, 'create'],
    [USER, 'manger', { manger: 'x' }, 'update'],
    [GROUP, 'owner', { owner: 'x' }, 'create'],
    // Open type in the CSDL, yet not an extension property: still rejected.
    [USER, 'extension_bad_name', { extension_bad_name: 'x' }, 'update'],
  ])(
    'user resource type (open type): unknown property on %s is rejected with the directory wording naming %s',
    (type, name, body, mode) => {
      expect(validateEntityBody(type, body, mode)).toEqual({
        code: 'Request_BadRequest',
        message: `Property '${name}' does not exist as a declared property or extension property.`,
        target: name,
      });
    },
  );

  test('passwordProfile resource type: unknown property inside a complex value names the dotted path', () => {
    const e = validateEntityBody(USER, { passwordProfile: { password: 'x', forceChange: true } }, 'update');
    expect(e).toMatchObject({ code: 'Request_BadRequest', target: 'passwordProfile.forceChange' });
    expect(e?.message).toContain("The property 'forceChange' does not exist on type 'microsoft.graph.passwordProfile'");
  });

  test.each<[string, string, unknown]>([
    // Edm.Boolean
    ['accountEnabled', 'accountEnabled', 'true'],
    ['accountEnabled', 'accountEnabled', 1],
    // Edm.String
    ['displayName', 'displayName', 42],
    ['displayName', 'displayName', true],
    // Edm.Int32
    ['deviceEnrollmentLimit', 'deviceEnrollmentLimit', '5'],
    ['deviceEnrollmentLimit', 'deviceEnrollmentLimit', 5.5],
    ['deviceEnrollmentLimit', 'deviceEnrollmentLimit', 2 ** 31],
    // Edm.DateTimeOffset: ISO 8601 string with time and offset
    ['employeeHireDate', 'employeeHireDate', 1705276800000],
    ['employeeHireDate', 'employeeHireDate', '15/01/2024'],
    ['employeeHireDate', 'employeeHireDate', '2024-01-15T00:00:00'],
    ['employeeHireDate', 'employeeHireDate', '2024-02-30T00:00:00Z'],
    // Collection(Edm.String) must be an array of strings
    ['businessPhones', 'businessPhones', '+1 425 555 0109'],
    ['businessPhones', 'businessPhones[1]', ['+1', 2]],
    // complex values must be objects
    ['passwordProfile', 'passwordProfile', 'secret'],
    ['employeeOrgData', 'employeeOrgData', ['Sales']],
    // nested: dotted path
    ['passwordProfile', 'passwordProfile.forceChangePasswordNextSignIn', { forceChangePasswordNextSignIn: 'yes' }],
    ['identities', 'identities[0].issuer', [{ signInType: 'emailAddress', issuer: 7 }]],
  ])('user resource type: wrong EDM type for %s is rejected naming %s', (prop, target, value) => {
    expect(validateEntityBody(USER, { [prop]: value }, 'update')).toEqual({
      code: 'Request_BadRequest',
      message: `Invalid value specified for property '${target}' of resource 'User'.`,
      target,
    });
  });

  test('user resource type: null only where nullable (businessPhones is Collection(Edm.String), Nullable=false)', () => {
    expect(validateEntityBody(USER, { businessPhones: null }, 'update')).toMatchObject({
      target: 'businessPhones',
      message: expect.stringContaining("expected type 'Collection(Edm.String)[Nullable=False]'"),
    });
    expect(validateEntityBody(USER, { businessPhones: [null] }, 'update')).toMatchObject({
      target: 'businessPhones[0]',
    });
    expect(validateEntityBody(USER, { jobTitle: null, passwordProfile: null }, 'update')).toBeUndefined();
  });

  test('mailboxSettings resource type: enum values must be member names', () => {
    const ok = { mailboxSettings: { delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly' } };
    expect(validateEntityBody(USER, ok, 'update')).toBeUndefined();
    const bad = { mailboxSettings: { delegateMeetingMessageDeliveryOptions: 'toEveryone' } };
    expect(validateEntityBody(USER, bad, 'update')).toMatchObject({
      target: 'mailboxSettings.delegateMeetingMessageDeliveryOptions',
    });
    const numeric = { mailboxSettings: { automaticRepliesSetting: { status: 1 } } };
    expect(validateEntityBody(USER, numeric, 'update')).toMatchObject({
      target: 'mailboxSettings.automaticRepliesSetting.status',
    });
  });

  test.each([
    'id',
    'createdDateTime',
    'deletedDateTime',
    'assignedLicenses',
    'assignedPlans',
    'provisionedPlans',
    'licenseAssignmentStates',
    'proxyAddresses',
    'securityIdentifier',
    'signInActivity',
    'creationType',
    'externalUserState',
    'externalUserStateChangeDateTime',
    'lastPasswordChangeDateTime',
    'onPremisesSyncEnabled',
    'onPremisesLastSyncDateTime',
    'onPremisesDistinguishedName',
    'onPremisesDomainName',
    'onPremisesSamAccountName',
    'onPremisesSecurityIdentifier',
    'onPremisesUserPrincipalName',
    'onPremisesProvisioningErrors',
    'imAddresses',
    'legalAgeGroupClassification',
    'signInSessionsValidFromDateTime',
  ])('user resource type: read-only %s is rejected on create and update', (prop) => {
    for (const mode of ['create', 'update'] as const) {
      expect(validateEntityBody(USER, { [prop]: null }, mode)).toEqual({
        code: 'Request_BadRequest',
        message: `Property '${prop}' is read-only and cannot be set.`,
        target: prop,
      });
    }
  });

  test('user resource type: onPremisesImmutableId is writable (Create user, federated domains)', () => {
    expect(validateEntityBody(USER, { onPremisesImmutableId: 'abc' }, 'create')).toBeUndefined();
    expect(writableProperties(USER)).toContain('onPremisesImmutableId');
    expect(writableProperties(USER)).not.toContain('onPremisesSyncEnabled');
    expect(propertyType(USER, 'assignedLicenses')?.readOnly).toBe(true);
  });

  test.each([
    'id',
    'mail',
    'proxyAddresses',
    'renewedDateTime',
    'securityIdentifier',
    'onPremisesSyncEnabled',
    'expirationDateTime',
  ])('group resource type: read-only %s is rejected', (prop) => {
    expect(validateEntityBody(GROUP, { [prop]: null }, 'update')).toMatchObject({ target: prop });
  });

  test('Create group (group-post-groups): members@odata.bind and owners@odata.bind are accepted', () => {
    const body = {
      description: 'Self help community for library',
      displayName: 'Library Assist',
      groupTypes: ['Unified'],
      mailEnabled: true,
      mailNickname: 'library',
      securityEnabled: false,
      'owners@odata.bind': ['https://graph.microsoft.com/v1.0/users/26be1845-1150-4de1-9b49-38ba1fe61d93'],
      'members@odata.bind': [
        'https://graph.microsoft.com/v1.0/users/ff7cb387-6688-423c-8188-3da9532a73cc',
        'https://graph.microsoft.com/v1.0/directoryObjects/69456242-0067-49d3-ba96-9de6f2728e14',
      ],
    };
    expect(validateEntityBody(GROUP, body, 'create')).toBeUndefined();
    expect(validateEntityBody(GROUP, { 'members@odata.bind': body['members@odata.bind'] }, 'update')).toBeUndefined();
  });

  test('Create group (group-post-groups): members@odata.bind must be an array of URLs; unknown binds rejected', () => {
    expect(
      validateEntityBody(GROUP, { 'members@odata.bind': 'https://graph.microsoft.com/v1.0/users/x' }, 'update'),
    ).toMatchObject({
      target: 'members@odata.bind',
    });
    expect(validateEntityBody(GROUP, { 'members@odata.bind': [42] }, 'update')).toMatchObject({
      target: 'members@odata.bind',
    });
    expect(validateEntityBody(GROUP, { 'calendar@odata.bind': 'https://x/y' }, 'update')).toMatchObject({
      target: 'calendar@odata.bind',
    });
    expect(validateEntityBody(GROUP, { 'friends@odata.bind': [] }, 'update')).toMatchObject({ target: 'friends' });
  });

  test('Create group (group-post-groups): autoSubscribeNewMembers only on PATCH, isAssignableToRole only on POST', () => {
    expect(validateEntityBody(GROUP, { autoSubscribeNewMembers: true }, 'create')).toMatchObject({
      target: 'autoSubscribeNewMembers',
    });
    expect(validateEntityBody(GROUP, { autoSubscribeNewMembers: true }, 'update')).toBeUndefined();
    expect(validateEntityBody(GROUP, { isAssignableToRole: true }, 'create')).toBeUndefined();
    expect(validateEntityBody(GROUP, { isAssignableToRole: true }, 'update')).toMatchObject({
      target: 'isAssignableToRole',
    });
    expect(writableProperties(GROUP, 'create')).not.toContain('autoSubscribeNewMembers');
    expect(writableProperties(GROUP, 'update')).not.toContain('isAssignableToRole');
  });

  test('user resource type: manager@odata.bind takes a single URL', () => {
    const url = 'https://graph.microsoft.com/v1.0/users/26be1845-1150-4de1-9b49-38ba1fe61d93';
    expect(validateEntityBody(USER, { 'manager@odata.bind': url }, 'update')).toBeUndefined();
    expect(validateEntityBody(USER, { 'manager@odata.bind': [url] }, 'update')).toMatchObject({
      target: 'manager@odata.bind',
    });
  });

  test('user resource type: @odata.type must name the type being written', () => {
    expect(validateEntityBody(USER, { '@odata.type': 'microsoft.graph.user' }, 'update')).toBeUndefined();
    expect(validateEntityBody(USER, { '@odata.type': '#microsoft.graph.group' }, 'update')).toMatchObject({
      target: '@odata.type',
      message: expect.stringContaining("not assignable to the expected type 'microsoft.graph.user'"),
    });
  });

  test('extensibility overview: directory extension properties extension_<appId>_<name> are accepted on user', () => {
    const name = 'extension_b7d8e5fa0a1c4c1e9a3e0f1b2c3d4e5f_skills';
    expect(validateEntityBody(USER, { [name]: ['a', 'b'] }, 'update')).toBeUndefined();
    expect(validateEntityBody(USER, { [name]: { nested: true } }, 'update')).toMatchObject({ target: name });
  });

  test('subscribedSku resource type: no create/update API, every property is read-only', () => {
    expect(writableProperties('microsoft.graph.subscribedSku')).toEqual([]);
    expect(validateEntityBody('microsoft.graph.subscribedSku', { skuPartNumber: 'X' }, 'update')).toMatchObject({
      target: 'skuPartNumber',
    });
  });

  test('no Graph doc (caller bug): unknown type names throw', () => {
    expect(() => validateEntityBody('microsoft.graph.nope', {}, 'create')).toThrow(/unknown type/);
  });
});

describe('validateActionBody', () => {
  const A = 'microsoft.graph.assignLicense' as const;

  test('user: assignLicense (user-assignlicense): documented body shape is accepted', () => {
    expect(
      validateActionBody(A, { addLicenses: [{ skuId: SKU, disabledPlans: [] }], removeLicenses: [] }),
    ).toBeUndefined();
    expect(
      validateActionBody(A, { addLicenses: [{ skuId: SKU, disabledPlans: [PLAN] }], removeLicenses: [SKU] }),
    ).toBeUndefined();
    expect(validateActionBody(A, { addLicenses: [], removeLicenses: [SKU] })).toBeUndefined();
  });

  test.each<[string, unknown, string]>([
    [
      'bad skuId',
      { addLicenses: [{ skuId: 'not-a-guid', disabledPlans: [] }], removeLicenses: [] },
      'addLicenses[0].skuId',
    ],
    [
      'bad disabledPlans entry',
      { addLicenses: [{ skuId: SKU, disabledPlans: ['x'] }], removeLicenses: [] },
      'addLicenses[0].disabledPlans[0]',
    ],
    ['removeLicenses not an array', { addLicenses: [], removeLicenses: SKU }, 'removeLicenses'],
    ['addLicenses item not an object', { addLicenses: [SKU], removeLicenses: [] }, 'addLicenses[0]'],
  ])('user: assignLicense (user-assignlicense): %s is rejected', (_label, body, target) => {
    expect(validateActionBody(A, body)).toEqual({
      code: 'Request_BadRequest',
      message: `Invalid value specified for parameter '${target}' of action 'assignLicense'.`,
      target,
    });
  });

  test('user: assignLicense (user-assignlicense): both parameters are required, unknown ones rejected', () => {
    expect(validateActionBody(A, { addLicenses: [] })).toMatchObject({ target: 'removeLicenses' });
    expect(validateActionBody(A, { addLicenses: [], removeLicenses: null })).toMatchObject({
      target: 'removeLicenses',
    });
    expect(validateActionBody(A, { addLicenses: [], removeLicenses: [], extra: 1 })).toMatchObject({
      target: 'extra',
      message: expect.stringContaining("not a valid parameter for the operation 'assignLicense'"),
    });
    expect(
      validateActionBody(A, { addLicenses: [{ skuId: SKU, disabledPlans: [], foo: 1 }], removeLicenses: [] }),
    ).toMatchObject({
      target: 'addLicenses[0].foo',
    });
    expect(validateActionBody(A, [])).toMatchObject({ code: 'Request_BadRequest', target: '' });
  });
});
