// The SCIM domain (issue 18): filters as clients send them, PATCH operations with Entra's and Okta's quirks,
// normalisation at the edge, attributes / excludedAttributes, and the mapping of a SCIM User onto the change
// contract's attributes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isScimError, type ScimError } from '../../../shared/domain/scim/scim-error.js';
import { matches, parseFilter } from '../../../shared/domain/scim/scim-filter.js';
import {
  applyPatch,
  patchOperations,
  project,
  readGroup,
  readUser,
  userChangeAttributes,
  withRemovals,
} from '../../../shared/domain/scim/scim-resource.js';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const user = {
  id: '2819c223-7f76-453a-919d-413861904646',
  externalId: 'Ext-1',
  userName: 'Bjensen@Example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  title: 'Tour Guide',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  meta: { lastModified: '2011-05-13T04:42:34Z' },
  [ENTERPRISE]: { employeeNumber: '701984', manager: { value: 'boss-id' } },
};

function scimErrorOf(f: () => unknown): ScimError {
  try {
    f();
  } catch (error) {
    if (isScimError(error)) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('filters', () => {
  it.each([
    ['userName eq "bjensen@example.com"', true],
    ['USERNAME eq "BJENSEN@EXAMPLE.COM"', true],
    ['userName ne "bjensen@example.com"', false],
    ['externalId eq "ext-1"', false],
    ['externalId eq "Ext-1"', true],
    ['emails[type eq "work"].value eq "bjensen@example.com"', true],
    ['emails[type eq "work"].value eq "babs@jensen.org"', false],
    ['emails[type eq "home" and value co "jensen"]', true],
    ['userName sw "bjen" and name.familyName ew "sen"', true],
    ['title pr and not (active eq false)', true],
    ['nickName pr or userName eq "x"', false],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', false],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', true],
    [`${ENTERPRISE}:employeeNumber eq "701984"`, true],
    [`${ENTERPRISE}:manager.value eq "boss-id"`, true],
  ])('%s → %s', (filter, expected) => {
    expect(matches(parseFilter(filter), user)).toBe(expected);
  });

  it('refuses what is not a filter with invalidFilter', () => {
    for (const bad of ['userName eq', 'userName xx "a"', '(userName eq "a"', 'x'.repeat(5000)])
      expect(scimErrorOf(() => parseFilter(bad))).toMatchObject({ status: 400, scimType: 'invalidFilter' });
  });

  it('userName eq matches exactly the userNames equal ignoring case (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._@-]{1,20}$/),
        fc.stringMatching(/^[A-Za-z0-9._@-]{1,20}$/),
        (a, b) => {
          const filter = parseFilter(`userName eq ${JSON.stringify(b)}`);
          expect(matches(filter, { userName: a })).toBe(a.toLowerCase() === b.toLowerCase());
        },
      ),
    );
  });
});

describe('PATCH', () => {
  const stored = readUser(user).resource;

  it("takes Entra's forms: op names in any case, booleans as strings, no-path value maps with paths as keys", () => {
    const ops = patchOperations('user', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [
        { op: 'Replace', path: 'active', value: 'False' },
        {
          op: 'replace',
          value: {
            'name.givenName': 'Babs',
            'emails[type eq "work"].value': 'b@example.com',
            [ENTERPRISE]: { department: 'Tours' },
          },
        },
        { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'new-boss' },
      ],
    });
    const { resource } = readUser(applyPatch('user', stored, ops));
    expect(resource).toMatchObject({
      active: false,
      name: { givenName: 'Babs', familyName: 'Jensen' },
      emails: [
        { value: 'b@example.com', type: 'work', primary: true },
        { value: 'babs@jensen.org', type: 'home' },
      ],
      [ENTERPRISE]: { employeeNumber: '701984', department: 'Tours', manager: { value: 'new-boss' } },
    });
  });

  it("takes Okta's no-path replace of active, and its rename carrying the group's own id", () => {
    expect(
      readUser(
        applyPatch(
          'user',
          stored,
          patchOperations('user', { Operations: [{ op: 'replace', value: { active: false } }] }),
        ),
      ).resource.active,
    ).toBe(false);
    const group = readGroup({ displayName: 'A', members: [{ value: 'u1' }] });
    const renamed = applyPatch(
      'group',
      group,
      patchOperations('group', { Operations: [{ op: 'replace', value: { id: 'g1', displayName: 'B' } }] }),
    );
    expect(readGroup(renamed)).toMatchObject({ displayName: 'B', members: [{ value: 'u1' }] });
  });

  it('removes members by value array (other sub-attributes as sent) and by filter; an absent one is no error', () => {
    const group = readGroup({
      displayName: 'A',
      members: [{ value: 'u1', type: 'User' }, { value: 'u2', type: 'User' }, { value: 'u3' }],
    });
    const ops = patchOperations('group', {
      Operations: [
        { op: 'Remove', path: 'members', value: [{ $ref: null, value: 'u1' }, { value: 'gone' }] },
        { op: 'remove', path: 'members[value eq "u3"]' },
      ],
    });
    expect(readGroup(applyPatch('group', group, ops)).members).toEqual([{ value: 'u2', type: 'User' }]);
  });

  it('refuses what RFC 7644 refuses, with its scimType', () => {
    const bad = (body: unknown) =>
      scimErrorOf(() => readUser(applyPatch('user', stored, patchOperations('user', body))));
    expect(bad({ Operations: [] })).toMatchObject({ status: 400, scimType: 'invalidSyntax' });
    expect(bad({ Operations: [{ op: 'copy', path: 'title' }] })).toMatchObject({ scimType: 'invalidSyntax' });
    expect(bad({ Operations: [{ op: 'remove' }] })).toMatchObject({ scimType: 'noTarget' });
    expect(bad({ Operations: [{ op: 'replace', path: 'id', value: 'x' }] })).toMatchObject({ scimType: 'mutability' });
    expect(bad({ Operations: [{ op: 'add', path: 'groups', value: [] }] })).toMatchObject({ scimType: 'mutability' });
    expect(bad({ Operations: [{ op: 'replace', path: 'active', value: 'maybe' }] })).toMatchObject({
      scimType: 'invalidValue',
    });
    expect(bad({ Operations: [{ op: 'replace', path: 'userName', value: '' }] })).toMatchObject({
      scimType: 'invalidValue',
    });
  });
});

describe('normalisation at the edge', () => {
  it('canonical attribute case, read-only attributes dropped, the password taken out, manager as {value}', () => {
    const { resource, password } = readUser({
      USERNAME: 'a@b.c',
      Active: 'True',
      id: 'client-chosen',
      meta: { created: 'x' },
      groups: [{ value: 'g' }],
      password: 'secret-1',
      emails: [{ value: 'a@b.c', primary: 'True' }],
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user': { Manager: 'boss' },
    });
    expect(resource).toEqual({
      userName: 'a@b.c',
      active: true,
      emails: [{ value: 'a@b.c', primary: true }],
      [ENTERPRISE]: { manager: { value: 'boss' } },
    });
    expect(password).toBe('secret-1');
  });

  it('refuses a user without userName, and text with control characters', () => {
    expect(scimErrorOf(() => readUser({ active: true }))).toMatchObject({ status: 400, scimType: 'invalidValue' });
    expect(scimErrorOf(() => readUser({ userName: 'a\u0000b' }))).toMatchObject({ scimType: 'invalidValue' });
    expect(scimErrorOf(() => readUser([]))).toMatchObject({ scimType: 'invalidSyntax' });
    expect(scimErrorOf(() => readGroup({ displayName: 'x', members: [{ display: 'no value' }] }))).toMatchObject({
      scimType: 'invalidValue',
    });
  });
});

describe('attributes / excludedAttributes', () => {
  const served = { schemas: ['s'], ...user };
  it('returns what is asked for, always id and schemas', () => {
    expect(project(served, 'userName,name.givenName,emails.value')).toEqual({
      schemas: ['s'],
      id: user.id,
      userName: user.userName,
      name: { givenName: 'Barbara' },
      emails: [{ value: 'bjensen@example.com' }, { value: 'babs@jensen.org' }],
    });
    expect(project(served, `${ENTERPRISE}:employeeNumber`)).toEqual({
      schemas: ['s'],
      id: user.id,
      [ENTERPRISE]: { employeeNumber: '701984' },
    });
  });
  it('leaves out what is excluded, never id', () => {
    const out = project(served, undefined, 'emails,name.familyName,id,MEMBERS');
    expect(out).not.toHaveProperty('emails');
    expect(out.name).toEqual({ givenName: 'Barbara' });
    expect(out.id).toBe(user.id);
  });
});

describe('a SCIM User as change attributes', () => {
  it("maps the core schema and the enterprise extension onto the default mapping's names; keeps other extensions by URN path", () => {
    const { resource, password } = readUser({
      userName: 'zoe@contoso.com',
      externalId: 'e-42',
      displayName: 'Zoë Müller',
      name: { givenName: 'Zoë', familyName: 'Müller' },
      title: 'Engineer',
      active: 'False',
      password: 'P@ss-w0rd-1',
      emails: [
        { value: 'home@x.org', type: 'home' },
        { value: 'zoe@contoso.com', type: 'work' },
      ],
      phoneNumbers: [
        { value: '+49 1', type: 'mobile' },
        { value: '+49 2', type: 'work' },
      ],
      addresses: [
        { type: 'work', country: 'DE', locality: 'Berlin', postalCode: '10115', streetAddress: 'Str. 1', region: 'BE' },
      ],
      [ENTERPRISE]: {
        department: 'R&D',
        employeeNumber: '42',
        costCenter: 'C1',
        organization: 'Contoso',
        division: 'D',
        manager: 'boss-id',
      },
      'urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User': { building: 'B7', badge: { number: 9 } },
    });
    expect(userChangeAttributes(resource, password)).toEqual({
      userName: 'zoe@contoso.com',
      externalId: 'e-42',
      displayName: 'Zoë Müller',
      givenName: 'Zoë',
      familyName: 'Müller',
      jobTitle: 'Engineer',
      active: false,
      email: 'zoe@contoso.com',
      mobilePhone: '+49 1',
      businessPhone: '+49 2',
      streetAddress: 'Str. 1',
      city: 'Berlin',
      state: 'BE',
      postalCode: '10115',
      country: 'DE',
      department: 'R&D',
      employeeId: '42',
      costCenter: 'C1',
      companyName: 'Contoso',
      division: 'D',
      managerExternalId: 'boss-id',
      'urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:building': 'B7',
      'urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User:badge.number': 9,
      password: 'P@ss-w0rd-1',
    });
  });

  it('sends null for what the previous change had and this one has not (never for the password)', () => {
    expect(withRemovals({ userName: 'a' }, { userName: 'a', jobTitle: 'x', password: 'p' })).toEqual({
      userName: 'a',
      jobTitle: null,
    });
  });
});
