// OAuth consent states in Table Storage, keyed by the SHA-256 of the state (the state itself is not stored).
// Single use is enforced with the entity's ETag: of two callbacks racing with one state, one wins.
import type { TableClient } from '@azure/data-tables';
import type { OAuthStateRecord, OAuthStateRepository } from '../provisioning/ports.js';
import { classifyStorageError, ensureTable, statusOf } from './table-support.js';

const PARTITION = 'oauth-state';

export class TableOAuthStateRepository implements OAuthStateRepository {
  constructor(private readonly table: TableClient) {}

  async save(record: OAuthStateRecord): Promise<void> {
    await ensureTable(this.table);
    const { stateHash, etag: _etag, ...fields } = record;
    try {
      await this.table.createEntity({ partitionKey: PARTITION, rowKey: stateHash, ...fields });
    } catch (error) {
      throw classifyStorageError(error, 'save OAuth state');
    }
  }

  async get(stateHash: string): Promise<OAuthStateRecord | undefined> {
    await ensureTable(this.table);
    try {
      const e = await this.table.getEntity<Omit<OAuthStateRecord, 'stateHash' | 'etag'>>(PARTITION, stateHash);
      return {
        stateHash,
        purpose: e.purpose,
        connectionId: e.connectionId,
        verifierCipher: e.verifierCipher,
        redirectUri: e.redirectUri,
        createdAt: e.createdAt,
        expiresAt: e.expiresAt,
        ...(e.usedAt ? { usedAt: e.usedAt } : {}),
        etag: e.etag,
      };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw classifyStorageError(error, 'read OAuth state');
    }
  }

  async markUsed(record: OAuthStateRecord, usedAt: string): Promise<boolean> {
    try {
      await this.table.updateEntity({ partitionKey: PARTITION, rowKey: record.stateHash, usedAt }, 'Merge', {
        etag: record.etag ?? '*',
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 404) return false;
      throw classifyStorageError(error, 'mark OAuth state used');
    }
  }
}
