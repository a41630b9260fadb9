import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../shared/config.js';

describe('configuration', () => {
  it('accepts an Azurite or account connection string', () => {
    expect(parseConfig({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }).AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
    expect(() => parseConfig({ AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=eA==;EndpointSuffix=core.windows.net' })).not.toThrow();
  });

  it.each([
    [{}, /AzureWebJobsStorage is required/],
    [{ AzureWebJobsStorage: '  ' }, /AzureWebJobsStorage is required/],
    [{ AzureWebJobsStorage: 'not a connection string' }, /AzureWebJobsStorage is not a storage connection string/],
  ])('fails naming the setting for %j', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});
