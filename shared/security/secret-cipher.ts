// Encryption at rest for secrets (client secrets, refresh tokens, PKCE verifiers): AES-256-GCM with a key id
// in every ciphertext so keys can rotate. The first configured key encrypts; every configured key decrypts.
// Each ciphertext is bound to what it protects (associated data such as `connection:<id>:clientSecret`), so a
// value copied into another row or field does not decrypt.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export class SecretCipher {
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly keys: readonly EncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretCipher needs at least one key');
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** Id of the key new ciphertexts use. */
  get activeKeyId(): string {
    return this.keys[0]!.id;
  }

  encrypt(plaintext: string, associatedData: string): string {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      VERSION,
      id,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join('.');
  }

  decrypt(ciphertext: string, associatedData: string): string {
    const [version, keyId, iv, tag, body] = ciphertext.split('.');
    if (version !== VERSION || !keyId || !iv || !tag || body === undefined)
      throw new SecretDecryptionError('unrecognised ciphertext format');
    const key = this.byId.get(keyId);
    if (!key)
      throw new SecretDecryptionError(
        `encryption key "${keyId}" is not configured (was it removed from SECRETS_ENCRYPTION_KEYS?)`,
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(
        'ciphertext failed authentication (wrong key, or not the value stored for this field)',
      );
    }
  }

  /** True when the value was encrypted with an older key and should be re-encrypted on the next write. */
  needsRewrap(ciphertext: string): boolean {
    return ciphertext.split('.')[1] !== this.activeKeyId;
  }
}

export class SecretDecryptionError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt a stored secret: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * Parses SECRETS_ENCRYPTION_KEYS: comma-separated `keyId:base64key` entries, each key 32 bytes. The first
 * entry is the active key. Rotate by putting a new key first and keeping the old ones until re-encrypted.
 */
export function parseEncryptionKeys(value: string): EncryptionKey[] {
  const entries = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('must list at least one key as keyId:base64key');
  const keys = entries.map((entry) => {
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    if (colon < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id))
      throw new Error('each entry must be keyId:base64key, keyId of letters, digits, - or _');
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== 32)
      throw new Error(
        `key "${id}" must be 32 bytes of base64 (got ${key.length}); generate one with: openssl rand -base64 32`,
      );
    return { id, key };
  });
  const ids = keys.map((k) => k.id);
  if (new Set(ids).size !== ids.length) throw new Error('key ids must be unique');
  return keys;
}

/** A fresh `keyId:base64key` entry (used by `npm start` and tests to create a local key). */
export function generateEncryptionKeyEntry(
  id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`,
): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
