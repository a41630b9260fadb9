import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as validateBody from '../../../dev/m365-sim/graph-schema/validate-body.js';
import {
  buildGraphUserProperties,
  GRAPH_USER_PROPERTIES_JSON,
  serializeGraphUserProperties,
} from '../../../scripts/generate-graph-user-properties.js';
import {
  complexUserPropertyFields,
  isNotMappableUserProperty,
  isReadOnlyUserProperty,
  REQUIRED_ON_CREATE,
  writableUserProperties,
} from '../../../shared/domain/mapping/graph-user-properties.js';

describe('graph-user-properties.json', () => {
  it('matches what the generator derives from the simulator schema today (run `npm run schemas`)', () => {
    const regenerated = serializeGraphUserProperties(buildGraphUserProperties(validateBody));
    expect(readFileSync(GRAPH_USER_PROPERTIES_JSON, 'utf8')).toBe(regenerated);
  });

  it("every target is accepted by the simulator's body validator on create and update with a value of its type", () => {
    const sample = (type: string): unknown =>
      ({ 'Edm.String': 'x', 'Edm.Boolean': true, 'Edm.Int32': 1, 'Edm.DateTimeOffset': '2025-01-31T00:00:00Z' })[type];
    for (const [name, p] of writableUserProperties()) {
      const value = p.collection ? [sample(p.type)] : sample(p.type);
      expect(value, `${name}: ${p.type}`).toBeDefined();
      const [top, field] = name.split('.');
      const body = field ? { [top!]: { [field]: value } } : { [top!]: value };
      expect(validateBody.validateEntityBody('microsoft.graph.user', body, 'create'), name).toBeUndefined();
      expect(validateBody.validateEntityBody('microsoft.graph.user', body, 'update'), name).toBeUndefined();
    }
  });
});

describe('writableUserProperties', () => {
  it.each<[string, { type: string; collection: boolean; nullable: boolean }]>([
    ['accountEnabled', { type: 'Edm.Boolean', collection: false, nullable: true }],
    ['displayName', { type: 'Edm.String', collection: false, nullable: true }],
    ['businessPhones', { type: 'Edm.String', collection: true, nullable: false }],
    ['employeeHireDate', { type: 'Edm.DateTimeOffset', collection: false, nullable: true }],
    ['deviceEnrollmentLimit', { type: 'Edm.Int32', collection: false, nullable: false }],
    ['passwordProfile.password', { type: 'Edm.String', collection: false, nullable: true }],
    ['passwordProfile.forceChangePasswordNextSignIn', { type: 'Edm.Boolean', collection: false, nullable: true }],
    [
      'passwordProfile.forceChangePasswordNextSignInWithMfa',
      { type: 'Edm.Boolean', collection: false, nullable: true },
    ],
    ['employeeOrgData.costCenter', { type: 'Edm.String', collection: false, nullable: true }],
    ['onPremisesExtensionAttributes.extensionAttribute15', { type: 'Edm.String', collection: false, nullable: true }],
  ])('%s', (name, type) => {
    expect(writableUserProperties().get(name)).toEqual(type);
  });

  it.each(['id', 'assignedLicenses', 'proxyAddresses', 'createdDateTime', 'onPremisesSyncEnabled', 'signInActivity'])(
    'leaves out read-only %s',
    (name) => {
      expect(writableUserProperties().has(name)).toBe(false);
      expect(isReadOnlyUserProperty(name)).toBe(true);
    },
  );

  it('complex properties appear only as their fields; structured ones not at all', () => {
    expect(writableUserProperties().has('passwordProfile')).toBe(false);
    expect(complexUserPropertyFields('passwordProfile')).toEqual([
      'passwordProfile.forceChangePasswordNextSignIn',
      'passwordProfile.forceChangePasswordNextSignInWithMfa',
      'passwordProfile.password',
    ]);
    for (const name of ['identities', 'mailboxSettings', 'customSecurityAttributes', 'print']) {
      expect(isNotMappableUserProperty(name)).toBe(true);
      expect(writableUserProperties().has(name)).toBe(false);
    }
  });

  it('REQUIRED_ON_CREATE are all mapping targets', () => {
    expect(REQUIRED_ON_CREATE).toEqual([
      'accountEnabled',
      'displayName',
      'mailNickname',
      'userPrincipalName',
      'passwordProfile.password',
    ]);
    for (const name of REQUIRED_ON_CREATE) expect(writableUserProperties().has(name)).toBe(true);
  });
});
