import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, signInConfigured, signInSettings } from '../../shared/config.js';
import { generateEncryptionKeyEntry } from '../../shared/security/secret-cipher.js';

const keys = generateEncryptionKeyEntry('k1');
const valid = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', SECRETS_ENCRYPTION_KEYS: keys };

const TENANT = '0c2f5b1e-5a7d-4b8e-9c41-1d3f6a2b7e01';
const CLIENT = '6d1f0a2c-3b4e-4f5a-8b6c-7d8e9f0a1b10';

describe('configuration', () => {
  it('turns Entra ID sign-in on with a tenant and a client id, and reads empty values as off', () => {
    expect(signInSettings(parseConfig(valid))).toBeUndefined();
    expect(
      signInSettings(parseConfig({ ...valid, ENTRA_TENANT_ID: '', ENTRA_CLIENT_ID: '', ENTRA_API_SCOPE: '' })),
    ).toBeUndefined();
    expect(
      signInSettings(parseConfig({ ...valid, ENTRA_TENANT_ID: TENANT.toUpperCase(), ENTRA_CLIENT_ID: CLIENT })),
    ).toEqual({
      tenantId: TENANT,
      clientId: CLIENT,
      authorityHost: 'https://login.microsoftonline.com',
      scope: `api://${CLIENT}/access_as_user`,
    });
    const usGov = parseConfig({
      ...valid,
      ENTRA_TENANT_ID: TENANT,
      ENTRA_CLIENT_ID: CLIENT,
      ENTRA_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
      ENTRA_API_SCOPE: `api://${TENANT}/m365prov/access_as_user`,
    });
    expect(signInSettings(usGov)).toMatchObject({
      authorityHost: 'https://login.microsoftonline.us',
      scope: `api://${TENANT}/m365prov/access_as_user`,
    });
    expect(signInConfigured({ ENTRA_TENANT_ID: TENANT, ENTRA_CLIENT_ID: CLIENT })).toBe(true);
    expect(signInConfigured({ ENTRA_TENANT_ID: TENANT, ENTRA_CLIENT_ID: ' ' })).toBe(false);
  });

  it('accepts an Azurite or account connection string and a list of keys', () => {
    const config = parseConfig(valid);
    expect(config.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
    expect(config.SECRETS_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(['k1']);
    expect(() =>
      parseConfig({
        ...valid,
        AzureWebJobsStorage:
          'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=eA==;EndpointSuffix=core.windows.net',
      }),
    ).not.toThrow();
    expect(parseConfig({ ...valid, PUBLIC_BASE_URL: 'https://app.example.com/' }).PUBLIC_BASE_URL).toBe(
      'https://app.example.com',
    );
  });

  it.each([
    [{ SECRETS_ENCRYPTION_KEYS: keys }, /AzureWebJobsStorage is required/],
    [{ ...valid, AzureWebJobsStorage: '  ' }, /AzureWebJobsStorage is required/],
    [
      { ...valid, AzureWebJobsStorage: 'not a connection string' },
      /AzureWebJobsStorage is not a storage connection string/,
    ],
    [{ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }, /SECRETS_ENCRYPTION_KEYS is required/],
    [{ ...valid, SECRETS_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, /SECRETS_ENCRYPTION_KEYS key "k1" must be 32 bytes/],
    [{ ...valid, SECRETS_ENCRYPTION_KEYS: `${keys},${keys}` }, /SECRETS_ENCRYPTION_KEYS key ids must be unique/],
    [{ ...valid, PUBLIC_BASE_URL: 'ftp://x' }, /PUBLIC_BASE_URL must be an http\(s\) URL/],
    [
      { ...valid, ENTRA_TENANT_ID: TENANT },
      /ENTRA_CLIENT_ID is required when the other Entra ID sign-in setting is set/,
    ],
    [{ ...valid, ENTRA_CLIENT_ID: CLIENT, ENTRA_TENANT_ID: '' }, /ENTRA_TENANT_ID is required when the other/],
    [
      { ...valid, ENTRA_TENANT_ID: 'contoso.com', ENTRA_CLIENT_ID: CLIENT },
      /ENTRA_TENANT_ID must be the directory \(tenant\) ID/,
    ],
    [
      { ...valid, ENTRA_TENANT_ID: TENANT, ENTRA_CLIENT_ID: CLIENT, ENTRA_AUTHORITY_HOST: 'http://login.example' },
      /ENTRA_AUTHORITY_HOST must be an https URL/,
    ],
  ])('fails naming the setting for %j', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });

  it('parses the connection string into `storage`', () => {
    expect(parseConfig(valid).storage).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
  });

  describe('identity-based storage (as the Functions host reads AzureWebJobsStorage__*)', () => {
    const identity = { SECRETS_ENCRYPTION_KEYS: keys };

    it('derives every service endpoint from AzureWebJobsStorage__accountName', () => {
      expect(parseConfig({ ...identity, AzureWebJobsStorage__accountName: 'stprov01' }).storage).toEqual({
        kind: 'identity',
        prefix: 'AzureWebJobsStorage',
        serviceUrls: {
          queue: 'https://stprov01.queue.core.windows.net',
          table: 'https://stprov01.table.core.windows.net',
          blob: 'https://stprov01.blob.core.windows.net',
        },
      });
    });

    it('takes explicit service URIs (trailing slash as Bicep primaryEndpoints give them), the managed identity and its client id', () => {
      const config = parseConfig({
        ...identity,
        AzureWebJobsStorage__queueServiceUri: 'https://acct.queue.core.usgovcloudapi.net/',
        AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.usgovcloudapi.net/',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: '6d1f0a2c-0000-4000-8000-000000000001',
      });
      expect(config.storage).toEqual({
        kind: 'identity',
        prefix: 'AzureWebJobsStorage',
        serviceUrls: {
          queue: 'https://acct.queue.core.usgovcloudapi.net',
          table: 'https://acct.table.core.usgovcloudapi.net',
        },
        credential: 'managedidentity',
        clientId: '6d1f0a2c-0000-4000-8000-000000000001',
      });
    });

    it('lets an explicit endpoint override the one derived from the account name', () => {
      const { storage } = parseConfig({
        ...identity,
        AzureWebJobsStorage__accountName: 'acct',
        AzureWebJobsStorage__tableServiceUri: 'https://tables.example.com',
      });
      expect(storage.kind === 'identity' && storage.serviceUrls).toEqual({
        queue: 'https://acct.queue.core.windows.net',
        table: 'https://tables.example.com',
        blob: 'https://acct.blob.core.windows.net',
      });
    });

    it.each([
      [
        { AzureWebJobsStorage: 'UseDevelopmentStorage=true', AzureWebJobsStorage__accountName: 'acct' },
        /AzureWebJobsStorage is set together with identity-based settings \(AzureWebJobsStorage__accountName\)/,
      ],
      [
        { AzureWebJobsStorage: 'UseDevelopmentStorage=true', AzureWebJobsStorage__credential: 'managedidentity' },
        /not both/,
      ],
      [
        { AzureWebJobsStorage__queueServiceUri: 'https://a.queue.core.windows.net' },
        /AzureWebJobsStorage__tableServiceUri is required for an identity-based connection/,
      ],
      [
        { AzureWebJobsStorage__credential: 'managedidentity' },
        /AzureWebJobsStorage__queueServiceUri is required.*AzureWebJobsStorage__tableServiceUri is required/,
      ],
      [
        { AzureWebJobsStorage__accountName: 'Not_An_Account' },
        /AzureWebJobsStorage__accountName must be a storage account name/,
      ],
      [
        {
          AzureWebJobsStorage__accountName: 'acct',
          AzureWebJobsStorage__queueServiceUri: 'http://acct.queue.core.windows.net',
        },
        /AzureWebJobsStorage__queueServiceUri must be an https URL/,
      ],
      [
        {
          AzureWebJobsStorage__accountName: 'acct',
          AzureWebJobsStorage__credential: 'managedidentityasfederatedidentity',
        },
        /AzureWebJobsStorage__credential must be "managedidentity"/,
      ],
      [
        {
          AzureWebJobsStorage__accountName: 'acct',
          AzureWebJobsStorage__credential: 'managedidentity',
          AzureWebJobsStorage__clientId: 'x',
          AzureWebJobsStorage__managedIdentityResourceId: '/sub/x',
        },
        /AzureWebJobsStorage__clientId and AzureWebJobsStorage__managedIdentityResourceId are both set/,
      ],
      [
        {},
        /AzureWebJobsStorage is required \(a storage connection string, or identity-based settings: AzureWebJobsStorage__accountName/,
      ],
    ])('fails naming the setting for %j', (env, message) => {
      expect(() => parseConfig({ ...identity, ...env })).toThrow(ConfigError);
      expect(() => parseConfig({ ...identity, ...env })).toThrow(message);
    });

    it('reports storage and other problems together', () => {
      try {
        parseConfig({ AzureWebJobsStorage__credential: 'managedidentity' });
        expect.unreachable();
      } catch (error) {
        expect((error as ConfigError).issues.map((i) => i.setting)).toEqual([
          'AzureWebJobsStorage__queueServiceUri',
          'AzureWebJobsStorage__tableServiceUri',
          'SECRETS_ENCRYPTION_KEYS',
        ]);
      }
    });
  });

  it('never repeats a key in its error message', () => {
    const badKey = 'k1:' + Buffer.alloc(16, 7).toString('base64');
    expect(() => parseConfig({ ...valid, SECRETS_ENCRYPTION_KEYS: badKey })).toThrow(ConfigError);
    try {
      parseConfig({ ...valid, SECRETS_ENCRYPTION_KEYS: badKey });
    } catch (error) {
      expect((error as Error).message).not.toContain(badKey.slice(3));
    }
  });
});
