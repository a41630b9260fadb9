import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { REQUIRED_ON_CREATE } from '../../../shared/domain/mapping/graph-user-properties.js';
import {
  applyMapping,
  DEFAULT_MAPPING,
  GENERATED_PASSWORD_LENGTH,
  generatePassword,
  mappedProperties,
  type Mapping,
  mappingRuleSchema,
  mappingSchema,
  validateMapping,
} from '../../../shared/domain/mapping/mapping.js';

const context = { domain: 'contoso.com' };
type RuleInput = z.input<typeof mappingRuleSchema>;

/** A mapping from its input form (applyOn and the flags take their defaults). */
const mapping = (properties: Record<string, unknown>, flags: Record<string, unknown> = {}): Mapping =>
  mappingSchema.parse({ properties, ...flags });

/** The smallest mapping that passes validation, plus whatever a test adds. */
const minimal = (extra: Record<string, unknown> = {}, flags: Record<string, unknown> = {}): Mapping =>
  mapping(
    {
      accountEnabled: { source: 'active' },
      displayName: { source: 'displayName' },
      mailNickname: { source: 'nick' },
      userPrincipalName: { source: 'upn' },
      'passwordProfile.password': { source: 'password', applyOn: 'create' },
      ...extra,
    },
    flags,
  );

/** A realistic SCIM-like user, flattened the way changes carry attributes. */
const jose = {
  userName: 'josé.müller-lüdenscheidt@source.example',
  givenName: 'José',
  familyName: 'Müller-Lüdenscheidt',
  active: true,
  email: 'jose.mueller@contoso.com',
  jobTitle: 'Ingenieur',
  department: 'R&D',
  employeeId: 'E-10017',
  mobilePhone: '+49 171 5550100',
  businessPhone: '+49 30 5550100',
  officeLocation: 'Berlin HQ',
  city: 'Berlin',
  country: 'Germany',
  usageLocation: 'DE',
  companyName: 'Contoso GmbH',
  employeeType: 'Employee',
  password: 'Initial-Passw0rd!',
  costCenter: 'CC-42',
};

describe('mappingSchema', () => {
  it('fills the defaults: applyOn always, generatePassword false, forceChangePasswordNextSignIn true', () => {
    expect(mapping({ givenName: { source: 'givenName' } })).toEqual({
      properties: { givenName: { source: 'givenName', applyOn: 'always' } },
      generatePassword: false,
      forceChangePasswordNextSignIn: true,
    });
  });

  it.each<[string, unknown, boolean]>([
    ['a source rule', { source: 'givenName' }, true],
    ['a constant string', { constant: 'Contoso' }, true],
    ['a constant list', { constant: ['+1 555 0100'] }, true],
    ['a constant null (clear)', { constant: null }, true],
    ['an expression for create only', { expression: 'lower(givenName)', applyOn: 'create' }, true],
    ['two kinds in one rule', { source: 'a', constant: 'b' }, false],
    ['an unknown key', { source: 'a', transform: 'lower' }, false],
    ['an empty source name', { source: '' }, false],
    ['an unknown applyOn', { source: 'a', applyOn: 'update' }, false],
    ['a constant object', { constant: { a: 1 } }, false],
  ])('rule: %s → valid %s', (_name, rule, ok) => {
    expect(mappingRuleSchema.safeParse(rule).success).toBe(ok);
  });

  it('is strict about unknown top-level keys', () => {
    expect(mappingSchema.safeParse({ properties: {}, generatePasswords: true }).success).toBe(false);
  });
});

describe('DEFAULT_MAPPING', () => {
  it.each<[string, RuleInput]>([
    ['userPrincipalName', { expression: 'concat(upnSafe(localPart(userName)), "@{domain}")' }],
    ['mailNickname', { expression: 'mailNicknameSafe(localPart(userName))' }],
    ['displayName', { expression: 'coalesce(displayName, "{givenName} {familyName}")' }],
    ['givenName', { source: 'givenName' }],
    ['surname', { source: 'familyName' }],
    ['accountEnabled', { source: 'active' }],
    ['mail', { source: 'email' }],
    ['businessPhones', { source: 'businessPhone' }],
    ['jobTitle', { source: 'jobTitle' }],
    ['usageLocation', { source: 'usageLocation' }],
    ['passwordProfile.password', { source: 'password', applyOn: 'create' }],
  ])('maps %s', (target, expected) => {
    expect(DEFAULT_MAPPING.properties[target]).toEqual(mappingRuleSchema.parse(expected));
  });

  it('maps exactly the documented targets', () => {
    expect(Object.keys(DEFAULT_MAPPING.properties).sort()).toEqual(
      [
        'accountEnabled',
        'businessPhones',
        'city',
        'companyName',
        'country',
        'department',
        'displayName',
        'employeeId',
        'employeeType',
        'givenName',
        'jobTitle',
        'mail',
        'mailNickname',
        'mobilePhone',
        'officeLocation',
        'passwordProfile.password',
        'surname',
        'usageLocation',
        'userPrincipalName',
      ].sort(),
    );
  });

  it('is valid and frozen', () => {
    expect(validateMapping(DEFAULT_MAPPING)).toEqual([]);
    expect(Object.isFrozen(DEFAULT_MAPPING.properties.givenName)).toBe(true);
    expect(DEFAULT_MAPPING.generatePassword).toBe(false);
    expect(DEFAULT_MAPPING.forceChangePasswordNextSignIn).toBe(true);
  });
});

describe('validateMapping', () => {
  it('accepts a minimal mapping', () => {
    expect(validateMapping(minimal())).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, { field: string; message: RegExp }]>([
    [
      'a typo, with the closest name suggested',
      { surnme: { source: 'familyName' } },
      {
        field: 'properties.surnme',
        message: /^'surnme' is not a writable property of a Microsoft Graph user — did you mean 'surname'\?$/,
      },
    ],
    [
      'a wrong case, suggested too',
      { jobtitle: { source: 'title' } },
      { field: 'properties.jobtitle', message: /did you mean 'jobTitle'\?/ },
    ],
    [
      'a typo in a complex field',
      { 'passwordProfile.pasword': { source: 'p' } },
      { field: 'properties.passwordProfile.pasword', message: /did you mean 'passwordProfile.password'\?/ },
    ],
    [
      'an unknown name without a near miss',
      { favouriteColour: { source: 'c' } },
      {
        field: 'properties.favouriteColour',
        message: /^'favouriteColour' is not a writable property of a Microsoft Graph user$/,
      },
    ],
    [
      'read-only id',
      { id: { source: 'externalId' } },
      {
        field: 'properties.id',
        message: /^'id' is read-only in Microsoft Graph and can't be mapped \(Graph assigns it\)$/,
      },
    ],
    [
      'read-only assignedLicenses',
      { assignedLicenses: { constant: ['E3'] } },
      { field: 'properties.assignedLicenses', message: /'assignedLicenses' is read-only .*assignLicense/ },
    ],
    [
      'read-only proxyAddresses',
      { proxyAddresses: { source: 'aliases' } },
      { field: 'properties.proxyAddresses', message: /read-only .*map mail instead/ },
    ],
    [
      'read-only createdDateTime',
      { createdDateTime: { source: 'created' } },
      { field: 'properties.createdDateTime', message: /read-only/ },
    ],
    [
      'a complex property as a whole',
      { passwordProfile: { source: 'password' } },
      {
        field: 'properties.passwordProfile',
        message: /is a complex property: map its fields instead \(.*passwordProfile\.password\)/,
      },
    ],
    [
      'a structured property',
      { identities: { source: 'ids' } },
      { field: 'properties.identities', message: /holds structured values that a field mapping can't write/ },
    ],
    [
      'an expression that does not parse, with the position',
      { jobTitle: { expression: 'upper(title' } },
      {
        field: 'properties.jobTitle.expression',
        message: /^expression does not parse: expected "," or "\)" at 11, found end of expression$/,
      },
    ],
    [
      'an unknown function',
      { jobTitle: { expression: 'uppr(title)' } },
      { field: 'properties.jobTitle.expression', message: /unknown function "uppr" at 0 \(did you mean upper\?\)/ },
    ],
    [
      'a text constant for a boolean',
      { accountEnabled: { constant: 'true' } },
      {
        field: 'properties.accountEnabled.constant',
        message: /^'accountEnabled' is Edm.Boolean: the constant must be true or false, got "true"$/,
      },
    ],
    [
      'a text constant for a list',
      { businessPhones: { constant: '+1 555 0100' } },
      {
        field: 'properties.businessPhones.constant',
        message: /Collection\(Edm.String\): the constant must be a list of text/,
      },
    ],
    [
      'a boolean constant for text',
      { companyName: { constant: true } },
      { field: 'properties.companyName.constant', message: /Edm.String: the constant must be text, got true/ },
    ],
    [
      'a fractional constant for Int32',
      { deviceEnrollmentLimit: { constant: 1.5 } },
      { field: 'properties.deviceEnrollmentLimit.constant', message: /Edm.Int32: expected a whole number/ },
    ],
    [
      'a non-date constant for a date',
      { employeeHireDate: { constant: 'last monday' } },
      { field: 'properties.employeeHireDate.constant', message: /Edm.DateTimeOffset: expected an ISO 8601/ },
    ],
    [
      'an impossible date',
      { employeeHireDate: { constant: '2025-02-30' } },
      { field: 'properties.employeeHireDate.constant', message: /real calendar date/ },
    ],
    [
      'a null constant for a non-nullable property',
      { birthday: { constant: null } },
      { field: 'properties.birthday.constant', message: /'birthday' \(Edm.DateTimeOffset\) can't be cleared/ },
    ],
    [
      'an empty constant for a required property',
      { displayName: { constant: '' } },
      {
        field: 'properties.displayName.constant',
        message: /'displayName' is required to create a user; a constant for it can't be empty/,
      },
    ],
    [
      'a constant password',
      { 'passwordProfile.password': { constant: 'Welcome1!' } },
      {
        field: 'properties.passwordProfile.password.constant',
        message: /same password: map passwordProfile.password from an attribute or set generatePassword: true/,
      },
    ],
  ])('reports %s', (_name, extra, issue) => {
    const issues = validateMapping(minimal(extra));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toBe(issue.field);
    expect(issues[0]!.message).toMatch(issue.message);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a boolean constant for accountEnabled', { accountEnabled: { constant: true } }],
    ['a list constant for businessPhones', { businessPhones: { constant: ['+1 555 0100'] } }],
    ['null for a nullable property (always clear it)', { jobTitle: { constant: null } }],
    ['an empty list for a collection', { otherMails: { constant: [] } }],
    ['a date-time with offset', { employeeHireDate: { constant: '2025-01-31T08:00:00+01:00' } }],
    ['a whole number for Int32', { deviceEnrollmentLimit: { constant: 5 } }],
    [
      'complex fields',
      {
        'employeeOrgData.costCenter': { source: 'costCenter' },
        'onPremisesExtensionAttributes.extensionAttribute1': { constant: 'x' },
      },
    ],
    [
      'custom source attribute names',
      { employeeId: { source: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber' } },
    ],
    ['a bare template', { mail: { expression: '{givenName}.{familyName}@{domain}' } }],
  ])('accepts %s', (_name, extra) => {
    expect(validateMapping(minimal(extra))).toEqual([]);
  });

  it.each(['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName'])(
    'requires a rule for %s (POST /users needs it)',
    (name) => {
      const m = minimal();
      delete m.properties[name];
      expect(validateMapping(m)).toEqual([
        {
          field: `properties.${name}`,
          message: expect.stringMatching(
            new RegExp(`^'${name}' is required to create a user \\(POST /users\\) but has no rule`),
          ),
        },
      ]);
    },
  );

  it('a missing accountEnabled is not defaulted: the message says how to create users enabled', () => {
    const m = minimal();
    delete m.properties.accountEnabled;
    expect(validateMapping(m)[0]!.message).toMatch(
      /\{"source":"active"\}.*there is no implicit default: use \{ "constant": true \}/,
    );
  });

  it('requires a password mapping or generatePassword, and says how to fix it (like PingOne)', () => {
    const m = minimal();
    delete m.properties['passwordProfile.password'];
    expect(validateMapping(m)).toEqual([
      {
        field: 'properties.passwordProfile.password',
        message:
          "a password is required to create a user (POST /users): map passwordProfile.password (e.g. from the 'password' attribute) or set generatePassword: true",
      },
    ]);
    expect(validateMapping({ ...m, generatePassword: true })).toEqual([]);
  });

  it('reports every problem at once, in mapping order then required ones', () => {
    const issues = validateMapping(mapping({ surnme: { source: 'familyName' }, id: { source: 'x' } }));
    expect(issues.map((i) => i.field)).toEqual([
      'properties.surnme',
      'properties.id',
      ...REQUIRED_ON_CREATE.map((name) => `properties.${name}`),
    ]);
  });
});

describe('applyMapping: the default mapping on a realistic SCIM-like user', () => {
  it('create: every mapped property, coerced, with the password profile', () => {
    const result = applyMapping(DEFAULT_MAPPING, jose, context, 'create');
    expect(result).toEqual({
      values: {
        userPrincipalName: 'jose.muller-ludenscheidt@contoso.com',
        mailNickname: 'jose.muller-ludenscheidt',
        displayName: 'José Müller-Lüdenscheidt',
        givenName: 'José',
        surname: 'Müller-Lüdenscheidt',
        accountEnabled: true,
        mail: 'jose.mueller@contoso.com',
        jobTitle: 'Ingenieur',
        department: 'R&D',
        employeeId: 'E-10017',
        mobilePhone: '+49 171 5550100',
        businessPhones: ['+49 30 5550100'],
        officeLocation: 'Berlin HQ',
        city: 'Berlin',
        country: 'Germany',
        usageLocation: 'DE',
        companyName: 'Contoso GmbH',
        employeeType: 'Employee',
        passwordProfile: { password: 'Initial-Passw0rd!', forceChangePasswordNextSignIn: true },
      },
      unresolved: [],
      errors: [],
    });
  });

  it('update: the same without the create-only password and without passwordProfile', () => {
    const { values, unresolved, errors } = applyMapping(DEFAULT_MAPPING, jose, context, 'update');
    expect(values).not.toHaveProperty('passwordProfile');
    expect(values.displayName).toBe('José Müller-Lüdenscheidt');
    expect(unresolved).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('a partial update touches only what the change carries; the rest is unresolved (left alone)', () => {
    const { values, unresolved } = applyMapping(
      DEFAULT_MAPPING,
      { jobTitle: 'Leiter', active: 'false' },
      context,
      'update',
    );
    expect(values).toEqual({ jobTitle: 'Leiter', accountEnabled: false });
    expect(unresolved).toContain('userPrincipalName');
    expect(unresolved).toContain('displayName');
    expect(unresolved).not.toContain('passwordProfile.password');
  });

  it.each([
    ['a plain user name', 'jdoe', 'jdoe@contoso.com', 'jdoe'],
    ['an e-mail-like user name: the part before the @', 'j.doe@source.example', 'j.doe@contoso.com', 'j.doe'],
    [
      'characters Entra / Exchange refuse are dropped',
      "Mary Ann O'Neil (Ext)@x.example",
      "MaryAnnO'NeilExt@contoso.com",
      "MaryAnnO'NeilExt",
    ],
    ['no "." before the @', 'trailing.@x.example', 'trailing@contoso.com', 'trailing'],
    ['Exchange keeps characters a UPN may not', 'a+b&c@x.example', 'abc@contoso.com', 'a+b&c'],
  ])('userPrincipalName and mailNickname from %s', (_name, userName, upn, nick) => {
    const { values } = applyMapping(DEFAULT_MAPPING, { userName }, context, 'update');
    expect(values.userPrincipalName).toBe(upn);
    expect(values.mailNickname).toBe(nick);
  });

  it('displayName falls back to "{givenName} {familyName}" and prefers the source displayName', () => {
    expect(
      applyMapping(DEFAULT_MAPPING, { givenName: 'A', familyName: 'B' }, context, 'update').values.displayName,
    ).toBe('A B');
    expect(
      applyMapping(DEFAULT_MAPPING, { displayName: 'Dr. A B', givenName: 'A', familyName: 'B' }, context, 'update')
        .values.displayName,
    ).toBe('Dr. A B');
    expect(applyMapping(DEFAULT_MAPPING, { givenName: 'A' }, context, 'update').unresolved).toContain('displayName');
  });

  it('a create without the attribute for a required property reports it unresolved (accountEnabled is not defaulted)', () => {
    const { values, unresolved } = applyMapping(DEFAULT_MAPPING, { ...jose, active: undefined }, context, 'create');
    expect(values).not.toHaveProperty('accountEnabled');
    expect(unresolved).toEqual(['accountEnabled']);
  });

  it('is deterministic', () => {
    expect(applyMapping(DEFAULT_MAPPING, jose, context, 'create')).toEqual(
      applyMapping(DEFAULT_MAPPING, jose, context, 'create'),
    );
  });
});

describe('applyMapping: rules', () => {
  it('applyOn create is applied on create and skipped on update', () => {
    const m = minimal({
      employeeType: { constant: 'Contractor', applyOn: 'create' },
      companyName: { constant: 'Contoso' },
    });
    expect(applyMapping(m, {}, context, 'create').values).toMatchObject({
      employeeType: 'Contractor',
      companyName: 'Contoso',
    });
    const update = applyMapping(m, {}, context, 'update').values;
    expect(update).toEqual({ companyName: 'Contoso' });
  });

  it('update never emits passwordProfile, even for always-rules and generatePassword', () => {
    const m = minimal(
      {
        'passwordProfile.password': { source: 'password' },
        'passwordProfile.forceChangePasswordNextSignInWithMfa': { constant: true },
      },
      { generatePassword: true },
    );
    const { values, unresolved } = applyMapping(m, { password: 'Xy1!xxxxxxxx' }, context, 'update');
    expect(values).not.toHaveProperty('passwordProfile');
    expect(unresolved.some((u) => u.startsWith('passwordProfile'))).toBe(false);
  });

  it('complex fields become nested objects', () => {
    const m = minimal({
      'employeeOrgData.costCenter': { source: 'costCenter' },
      'employeeOrgData.division': { constant: 'Engineering' },
      'onPremisesExtensionAttributes.extensionAttribute3': { expression: 'upper(costCenter)' },
    });
    expect(applyMapping(m, { costCenter: 'cc-42' }, context, 'update').values).toEqual({
      employeeOrgData: { costCenter: 'cc-42', division: 'Engineering' },
      onPremisesExtensionAttributes: { extensionAttribute3: 'CC-42' },
    });
  });

  it('expression evaluation errors are reported for the target, not thrown', () => {
    const m = minimal({ jobTitle: { expression: '"{titles}"' } });
    expect(applyMapping(m, { titles: ['a', 'b'] }, context, 'update').errors).toEqual([
      { field: 'jobTitle', message: expect.stringMatching(/^jobTitle: \{titles\} is a list/) },
    ]);
  });

  it('an invalid mapping does not throw: each broken rule is an error on every apply', () => {
    const m = minimal({ surnme: { source: 'familyName' }, jobTitle: { expression: 'upper(' } });
    const { values, errors } = applyMapping(m, { familyName: 'B', displayName: 'A B' }, context, 'update');
    expect(values).toEqual({ displayName: 'A B' });
    expect(errors.map((e) => e.field)).toEqual(['surnme', 'jobTitle']);
    expect(errors[0]!.message).toMatch(/did you mean 'surname'/);
  });

  it('create lists required properties the mapping has no rule for as unresolved', () => {
    const m = mapping({ givenName: { source: 'givenName' } });
    expect(applyMapping(m, { givenName: 'A' }, context, 'create').unresolved).toEqual([...REQUIRED_ON_CREATE]);
    expect(applyMapping(m, { givenName: 'A' }, context, 'update').unresolved).toEqual([]);
  });
});

describe('applyMapping: coercion to EDM types', () => {
  const m = minimal({
    showInAddressList: { source: 'v' },
    jobTitle: { source: 'v' },
    businessPhones: { source: 'v' },
    interests: { source: 'v' },
    employeeHireDate: { source: 'v' },
    deviceEnrollmentLimit: { source: 'v' },
  });
  const one = (target: string, v: unknown) => {
    const r = applyMapping(m, { v }, context, 'update');
    return {
      value: r.values[target],
      error: r.errors.find((e) => e.field === target)?.message,
      unresolved: r.unresolved.includes(target),
    };
  };

  it.each<[string, string, unknown, unknown]>([
    ['Edm.Boolean from true', 'showInAddressList', true, true],
    ['Edm.Boolean from "false"', 'showInAddressList', 'false', false],
    ['Edm.Boolean from " TRUE "', 'showInAddressList', ' TRUE ', true],
    ['Edm.Boolean from 1', 'showInAddressList', 1, true],
    ['Edm.Boolean from 0', 'showInAddressList', 0, false],
    ['Edm.Boolean from "0"', 'showInAddressList', '0', false],
    ['Edm.String from text', 'jobTitle', 'Engineer', 'Engineer'],
    ['Edm.String from a number', 'jobTitle', 42, '42'],
    ['Edm.String from a boolean', 'jobTitle', false, 'false'],
    ['Collection(Edm.String) from text', 'businessPhones', '+1 555 0100', ['+1 555 0100']],
    ['Collection(Edm.String) from a list', 'businessPhones', ['+1', '+2'], ['+1', '+2']],
    ['Collection(Edm.String) drops empty items', 'businessPhones', ['+1', ''], ['+1']],
    ['Collection(Edm.String) from a number', 'businessPhones', 5550100, ['5550100']],
    ['Edm.DateTimeOffset from an ISO date-time', 'employeeHireDate', '2025-01-31T08:00:00Z', '2025-01-31T08:00:00Z'],
    [
      'Edm.DateTimeOffset with an offset and fraction',
      'employeeHireDate',
      '2025-01-31T08:00:00.123+01:00',
      '2025-01-31T08:00:00.123+01:00',
    ],
    ['Edm.DateTimeOffset from a date (midnight UTC)', 'employeeHireDate', '2025-01-31', '2025-01-31T00:00:00Z'],
    ['Edm.Int32 from an integer', 'deviceEnrollmentLimit', 15, 15],
    ['Edm.Int32 from a numeric string', 'deviceEnrollmentLimit', ' 15 ', 15],
  ])('%s', (_name, target, input, expected) => {
    expect(one(target, input)).toEqual({ value: expected, error: undefined, unresolved: false });
  });

  it.each<[string, string, unknown, RegExp]>([
    [
      'Edm.Boolean from "maybe"',
      'showInAddressList',
      'maybe',
      /^showInAddressList is Edm.Boolean: expected true\/false \("true"\/"false", 1\/0\), got "maybe" \(from attribute 'v'\)$/,
    ],
    ['Edm.Boolean from 2', 'showInAddressList', 2, /expected true\/false.*got 2/],
    ['Edm.Boolean from a list', 'showInAddressList', ['true'], /expected a single value, got a list of 1/],
    ['Edm.String from a list', 'jobTitle', ['a', 'b'], /Edm.String: expected a single value, got a list of 2/],
    ['Edm.DateTimeOffset without a time zone', 'employeeHireDate', '2025-01-31T08:00:00', /needs a time zone/],
    ['Edm.DateTimeOffset from nonsense', 'employeeHireDate', 'soon', /expected an ISO 8601 date or date-time/],
    ['Edm.DateTimeOffset from an impossible date', 'employeeHireDate', '2025-13-01', /real calendar date/],
    [
      'Edm.DateTimeOffset from a number',
      'employeeHireDate',
      1738310400,
      /expected an ISO 8601 date-time text, got 1738310400/,
    ],
    ['Edm.Int32 from a fraction', 'deviceEnrollmentLimit', 1.5, /expected a whole number \(32-bit\), got 1.5/],
    ['Edm.Int32 out of range', 'deviceEnrollmentLimit', 2 ** 31, /expected a whole number/],
    ['Edm.Int32 from text', 'deviceEnrollmentLimit', 'ten', /expected a whole number/],
  ])('error: %s', (_name, target, input, message) => {
    const r = one(target, input);
    expect(r.value).toBeUndefined();
    expect(r.error).toMatch(message);
  });

  it.each<[string, string, unknown, unknown]>([
    ['null clears a nullable property', 'jobTitle', null, null],
    ['"" clears a nullable property', 'jobTitle', '', null],
    ['null clears a non-nullable collection as []', 'businessPhones', null, []],
    ['[] clears a non-nullable collection as []', 'businessPhones', [], []],
    ['null clears a nullable collection as null', 'interests', null, null],
  ])('explicit clear: %s', (_name, target, input, expected) => {
    expect(one(target, input)).toEqual({ value: expected, error: undefined, unresolved: false });
  });

  it('a missing attribute is unresolved, not cleared', () => {
    const r = applyMapping(m, {}, context, 'update');
    expect(r.values).toEqual({});
    expect(r.unresolved).toEqual(expect.arrayContaining(['jobTitle', 'businessPhones', 'showInAddressList']));
  });

  it('a non-nullable property can not be cleared', () => {
    const r = applyMapping(minimal({ birthday: { source: 'v' } }), { v: null }, context, 'update');
    expect(r.errors).toEqual([
      { field: 'birthday', attribute: 'v', message: expect.stringMatching(/Edm.DateTimeOffset here can't be cleared/) },
    ]);
  });

  it("a value over Graph's documented maximum length is an error naming the property, its limit and the attribute", () => {
    const r = applyMapping(
      minimal({ jobTitle: { source: 'title' }, city: { expression: 'upper("{town}")' } }),
      { title: 'x'.repeat(129), town: 'y'.repeat(128) },
      context,
      'update',
    );
    expect(r.errors).toEqual([
      {
        field: 'jobTitle',
        attribute: 'title',
        message: "jobTitle is at most 128 characters in Microsoft 365; attribute 'title' gives 129",
      },
    ]);
    expect(r.values).toEqual({ city: 'Y'.repeat(128) });
    const atLimit = applyMapping(
      minimal({ jobTitle: { source: 'title' } }),
      { title: 'x'.repeat(128) },
      context,
      'update',
    );
    expect(atLimit).toMatchObject({ errors: [], values: { jobTitle: 'x'.repeat(128) } });
  });

  it('a password over 256 characters is refused without showing it', () => {
    const r = applyMapping(minimal({}), { password: `Pa55-${'w'.repeat(300)}` }, context, 'create');
    expect(r.errors).toEqual([
      {
        field: 'passwordProfile.password',
        attribute: 'password',
        message: expect.stringMatching(/at most 256 characters/),
      },
    ]);
    expect(JSON.stringify(r.errors)).not.toContain('www');
  });

  it('a required property is never cleared: empty counts as unresolved', () => {
    const r = applyMapping(
      minimal(),
      { displayName: '', active: null, nick: 'n', upn: 'u@contoso.com' },
      context,
      'update',
    );
    expect(r.values).toEqual({ mailNickname: 'n', userPrincipalName: 'u@contoso.com' });
    expect(r.unresolved).toEqual(['accountEnabled', 'displayName']);
  });
});

describe('applyMapping: passwords on create', () => {
  const ENTRA_SYMBOLS = /[@#$%^&*\-_!+=[\]{}|\\:',.?/`~"();<> ]/;

  it('generates a strong password when generatePassword is set and none is mapped', () => {
    const m = minimal({}, { generatePassword: true });
    delete m.properties['passwordProfile.password'];
    const { values, unresolved } = applyMapping(
      m,
      { active: true, displayName: 'A', nick: 'a', upn: 'a@contoso.com' },
      context,
      'create',
    );
    const profile = values.passwordProfile as { password: string; forceChangePasswordNextSignIn: boolean };
    expect(profile.forceChangePasswordNextSignIn).toBe(true);
    expect(profile.password).toHaveLength(GENERATED_PASSWORD_LENGTH);
    expect(unresolved).toEqual([]);
  });

  it('generates one when the mapped attribute is missing or empty, and uses the attribute when present', () => {
    const m = minimal({}, { generatePassword: true, forceChangePasswordNextSignIn: false });
    const missing = applyMapping(m, {}, context, 'create');
    expect((missing.values.passwordProfile as { password: string }).password).toHaveLength(GENERATED_PASSWORD_LENGTH);
    expect(missing.unresolved).not.toContain('passwordProfile.password');
    expect(
      (applyMapping(m, { password: '' }, context, 'create').values.passwordProfile as { password: string }).password,
    ).toHaveLength(GENERATED_PASSWORD_LENGTH);
    expect(applyMapping(m, { password: 'Given-Passw0rd' }, context, 'create').values.passwordProfile).toEqual({
      password: 'Given-Passw0rd',
      forceChangePasswordNextSignIn: false,
    });
  });

  it('without generatePassword a missing password is unresolved', () => {
    const r = applyMapping(minimal(), {}, context, 'create');
    expect(r.values).not.toHaveProperty('passwordProfile');
    expect(r.unresolved).toContain('passwordProfile.password');
  });

  it('a forceChangePasswordNextSignIn rule wins over the mapping flag', () => {
    const m = minimal({ 'passwordProfile.forceChangePasswordNextSignIn': { source: 'mustChange' } });
    expect(
      applyMapping(m, { password: 'P@ssw0rd-123', mustChange: 'false' }, context, 'create').values.passwordProfile,
    ).toEqual({
      password: 'P@ssw0rd-123',
      forceChangePasswordNextSignIn: false,
    });
    expect(applyMapping(m, { password: 'P@ssw0rd-123' }, context, 'create').values.passwordProfile).toEqual({
      password: 'P@ssw0rd-123',
      forceChangePasswordNextSignIn: true,
    });
  });

  it('a password value of the wrong shape is an error that does not show the value, and nothing is generated', () => {
    const m = minimal({}, { generatePassword: true });
    const r = applyMapping(m, { password: ['Secret-1', 'Secret-2'] }, context, 'create');
    expect(r.values).not.toHaveProperty('passwordProfile');
    expect(r.errors).toEqual([
      { field: 'passwordProfile.password', attribute: 'password', message: expect.stringContaining('(not shown)') },
    ]);
    expect(JSON.stringify(r.errors)).not.toContain('Secret');
  });

  it('generated passwords meet Entra complexity (all four classes, allowed characters only) and differ between calls', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = generatePassword();
      expect(p.length).toBeGreaterThanOrEqual(16);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(ENTRA_SYMBOLS);
      expect(p).toMatch(/^[A-Za-z0-9@#$%^&*\-_!+=[\]{}|\\:',.?/`~"();<> ]+$/);
      expect(p).not.toMatch(/\.@/);
      seen.add(p);
    }
    expect(seen.size).toBe(200);
    const m = minimal({}, { generatePassword: true });
    const a = applyMapping(m, {}, context, 'create').values.passwordProfile as { password: string };
    const b = applyMapping(m, {}, context, 'create').values.passwordProfile as { password: string };
    expect(a.password).not.toBe(b.password);
  });
});

describe('mappedProperties', () => {
  it.each<[string, Mapping, 'create' | 'update', string[]]>([
    [
      'the default mapping on update: everything but the password',
      DEFAULT_MAPPING,
      'update',
      [
        'accountEnabled',
        'businessPhones',
        'city',
        'companyName',
        'country',
        'department',
        'displayName',
        'employeeId',
        'employeeType',
        'givenName',
        'jobTitle',
        'mail',
        'mailNickname',
        'mobilePhone',
        'officeLocation',
        'surname',
        'usageLocation',
        'userPrincipalName',
      ],
    ],
    [
      'create includes passwordProfile',
      minimal(),
      'create',
      ['accountEnabled', 'displayName', 'mailNickname', 'passwordProfile', 'userPrincipalName'],
    ],
    [
      'update leaves out passwordProfile',
      minimal(),
      'update',
      ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName'],
    ],
    [
      'generatePassword alone adds passwordProfile on create',
      mapping({ givenName: { source: 'g' } }, { generatePassword: true }),
      'create',
      ['givenName', 'passwordProfile'],
    ],
    [
      'applyOn create is left out on update',
      mapping({ givenName: { source: 'g' }, jobTitle: { source: 't', applyOn: 'create' } }),
      'update',
      ['givenName'],
    ],
    [
      'complex fields give their top-level property once',
      mapping({ 'employeeOrgData.division': { source: 'd' }, 'employeeOrgData.costCenter': { source: 'c' } }),
      'update',
      ['employeeOrgData'],
    ],
    [
      'invalid targets are left out',
      mapping({ surnme: { source: 's' }, id: { source: 'i' }, city: { source: 'c' } }),
      'update',
      ['city'],
    ],
  ])('%s', (_name, m, mode, expected) => {
    expect(mappedProperties(m, mode)).toEqual(expected);
  });
});
