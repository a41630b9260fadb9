// The storage clients of both connection styles, built and driven without a network: which endpoint each
// client targets, and that identity-based clients authenticate with an Entra token, never an account key.
import {
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelineRequest,
} from '@azure/core-rest-pipeline';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { StorageSharedKeyCredential } from '@azure/storage-queue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  queueClient,
  queueServiceClient,
  tableClient,
  tableServiceClient,
} from '../../../shared/storage/storage-clients.js';
import {
  parseStorageSettings,
  type StorageSettings,
  storageSettingsOrThrow,
} from '../../../shared/storage/storage-settings.js';

const CLIENT_ID = '6d1f0a2c-0000-4000-8000-000000000001';
const onAzure = storageSettingsOrThrow({
  AzureWebJobsStorage__accountName: 'stprov01',
  AzureWebJobsStorage__credential: 'managedidentity',
  AzureWebJobsStorage__clientId: CLIENT_ID,
});
const accountKey =
  'DefaultEndpointsProtocol=https;AccountName=stprov01;AccountKey=a2V5a2V5a2V5a2V5;EndpointSuffix=core.windows.net';

/** Sends one request through a client's pipeline to a recording stand-in for the network. */
async function sendThrough(
  pipeline: { sendRequest(client: HttpClient, request: PipelineRequest): Promise<unknown> },
  url: string,
) {
  const sent: PipelineRequest[] = [];
  const network: HttpClient = {
    sendRequest: async (request) => {
      sent.push(request);
      return {
        request,
        status: 200,
        headers: createHttpHeaders({ 'content-type': 'application/json' }),
        bodyAsText: '{"value":[]}',
      };
    },
  };
  await pipeline.sendRequest(network, createPipelineRequest({ url, method: 'GET' }));
  return sent;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('storage clients, identity-based', () => {
  it('target the endpoints derived from the account name', () => {
    expect(tableClient(onAzure, 'users').url).toBe('https://stprov01.table.core.windows.net');
    expect(tableClient(onAzure, 'users').tableName).toBe('users');
    expect(tableServiceClient(onAzure).url).toBe('https://stprov01.table.core.windows.net');
    expect(queueClient(onAzure, 'provisioning-operations').url).toBe(
      'https://stprov01.queue.core.windows.net/provisioning-operations',
    );
    expect(queueClient(onAzure, 'provisioning-operations').name).toBe('provisioning-operations');
    expect(queueServiceClient(onAzure).url).toBe('https://stprov01.queue.core.windows.net');
  });

  it('target explicit service URIs', () => {
    const settings = storageSettingsOrThrow({
      AzureWebJobsStorage__queueServiceUri: 'https://q.example.com/',
      AzureWebJobsStorage__tableServiceUri: 'https://t.example.com/',
    });
    expect(tableClient(settings, 'logs').url).toBe('https://t.example.com');
    expect(queueClient(settings, 'ops').url).toBe('https://q.example.com/ops');
  });

  it('use the user-assigned managed identity named by __clientId, one credential for all clients', () => {
    const credential = Reflect.get(queueClient(onAzure, 'a'), 'credential') as unknown;
    expect(credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(credential).not.toBeInstanceOf(StorageSharedKeyCredential);
    expect(Reflect.get(queueServiceClient(onAzure), 'credential')).toBe(credential);
    expect(Reflect.get(tableClient(onAzure, 'users'), 'credential')).toBe(credential);
  });

  it('use DefaultAzureCredential (the developer identity) when __credential is not set', () => {
    const local = storageSettingsOrThrow({ AzureWebJobsStorage__accountName: 'devaccount' });
    expect(Reflect.get(queueClient(local, 'a'), 'credential')).toBeInstanceOf(DefaultAzureCredential);
    expect(Reflect.get(tableClient(local, 'users'), 'credential')).toBeInstanceOf(DefaultAzureCredential);
  });

  it('send a bearer token from the managed identity, for the storage audience, and no account key', async () => {
    const getToken = vi
      .spyOn(ManagedIdentityCredential.prototype, 'getToken')
      .mockResolvedValue({ token: 'mi-token', expiresOnTimestamp: Date.now() + 3_600_000 });
    const client = tableClient(onAzure, 'users');
    const [request] = await sendThrough(client.pipeline, `${client.url}/Tables`);
    expect(request!.url).toBe('https://stprov01.table.core.windows.net/Tables');
    expect(request!.headers.get('authorization')).toBe('Bearer mi-token');
    expect(getToken).toHaveBeenCalledWith(['https://storage.azure.com/.default'], expect.anything());
  });

  it('refuse a service the connection has no endpoint for, naming the setting', () => {
    const queueOnly = storageSettingsOrThrow(
      { Triggers__queueServiceUri: 'https://q.example.com', Triggers__credential: 'managedidentity' },
      'Triggers',
      ['queue'],
    );
    expect(() => tableClient(queueOnly, 'users')).toThrow(/Triggers__tableServiceUri is not set/);
    expect(queueClient(queueOnly, 'jobs').url).toBe('https://q.example.com/jobs');
  });
});

describe('storage clients, connection string', () => {
  it('accept a plain connection string or the parsed setting, and sign with the account key', async () => {
    const parsed: StorageSettings = { kind: 'connectionString', connectionString: accountKey };
    for (const target of [accountKey, parsed]) {
      expect(queueClient(target, 'ops').url).toBe('https://stprov01.queue.core.windows.net/ops');
      expect(Reflect.get(queueClient(target, 'ops'), 'credential')).toBeInstanceOf(StorageSharedKeyCredential);
      const client = tableClient(target, 'users');
      const [request] = await sendThrough(client.pipeline, `${client.url}Tables`);
      expect(request!.headers.get('authorization')).toMatch(/^SharedKey(Lite)? stprov01:/);
    }
  });
});

describe('identity-based trigger connections (the local host)', () => {
  it('read <connection>__queueServiceUri for a connection other than AzureWebJobsStorage', () => {
    const result = parseStorageSettings(
      { Jobs__queueServiceUri: 'https://jobs.queue.core.windows.net', Jobs__credential: 'managedidentity' },
      'Jobs',
      ['queue'],
    );
    expect(result).toEqual({
      ok: true,
      settings: {
        kind: 'identity',
        prefix: 'Jobs',
        serviceUrls: { queue: 'https://jobs.queue.core.windows.net' },
        credential: 'managedidentity',
      },
    });
  });

  it('keep the __accountName shorthand to AzureWebJobsStorage, as the host does', () => {
    const result = parseStorageSettings({ Jobs__accountName: 'jobs' }, 'Jobs', ['queue']);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues[0]).toEqual({
      setting: 'Jobs',
      problem: expect.stringMatching(/^is required .*Jobs__queueServiceUri/),
    });
  });
});
