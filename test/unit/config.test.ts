import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../shared/config.js';
import { generateEncryptionKeyEntry } from '../../shared/security/secret-cipher.js';

const keys = generateEncryptionKeyEntry('k1');
const valid = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', SECRETS_ENCRYPTION_KEYS: keys };

describe('configuration', () => {
  it('accepts an Azurite or account connection string and a list of keys', () => {
    const config = parseConfig(valid);
    expect(config.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
    expect(config.SECRETS_ENCRYPTION_KEYS.map((k) => k.id)).toEqual(['k1']);
    expect(() => parseConfig({ ...valid, AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=eA==;EndpointSuffix=core.windows.net' })).not.toThrow();
    expect(parseConfig({ ...valid, PUBLIC_BASE_URL: 'https://app.example.com/' }).PUBLIC_BASE_URL).toBe('https://app.example.com');
  });

  it.each([
    [{ SECRETS_ENCRYPTION_KEYS: keys }, /AzureWebJobsStorage is required/],
    [{ ...valid, AzureWebJobsStorage: '  ' }, /AzureWebJobsStorage is required/],
    [{ ...valid, AzureWebJobsStorage: 'not a connection string' }, /AzureWebJobsStorage is not a storage connection string/],
    [{ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }, /SECRETS_ENCRYPTION_KEYS is required/],
    [{ ...valid, SECRETS_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }, /SECRETS_ENCRYPTION_KEYS key "k1" must be 32 bytes/],
    [{ ...valid, SECRETS_ENCRYPTION_KEYS: `${keys},${keys}` }, /SECRETS_ENCRYPTION_KEYS key ids must be unique/],
    [{ ...valid, PUBLIC_BASE_URL: 'ftp://x' }, /PUBLIC_BASE_URL must be an http\(s\) URL/],
  ])('fails naming the setting for %j', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
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
