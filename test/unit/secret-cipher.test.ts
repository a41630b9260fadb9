import { describe, expect, it } from 'vitest';
import {
  generateEncryptionKeyEntry,
  parseEncryptionKeys,
  SecretCipher,
  SecretDecryptionError,
} from '../../shared/security/secret-cipher.js';

const keysFrom = (...entries: string[]) => parseEncryptionKeys(entries.join(','));

describe('secrets at rest (AES-256-GCM with key ids)', () => {
  const old = generateEncryptionKeyEntry('old');
  const current = generateEncryptionKeyEntry('new');

  it('round-trips and never contains the plaintext', () => {
    const cipher = new SecretCipher(keysFrom(current));
    const sealed = cipher.encrypt('s3cr3t-value', 'connection:1:clientSecret');
    expect(sealed).toMatch(/^v1\.new\./);
    expect(sealed).not.toContain('s3cr3t');
    expect(cipher.decrypt(sealed, 'connection:1:clientSecret')).toBe('s3cr3t-value');
    expect(cipher.encrypt('s3cr3t-value', 'connection:1:clientSecret')).not.toBe(sealed);
  });

  it('refuses a ciphertext moved to another field or connection (bound by associated data)', () => {
    const cipher = new SecretCipher(keysFrom(current));
    const sealed = cipher.encrypt('x', 'connection:1:clientSecret');
    expect(() => cipher.decrypt(sealed, 'connection:2:clientSecret')).toThrow(SecretDecryptionError);
    expect(() => cipher.decrypt(sealed, 'connection:1:refreshToken')).toThrow(/failed authentication/);
  });

  it('refuses a tampered ciphertext', () => {
    const cipher = new SecretCipher(keysFrom(current));
    const parts = cipher.encrypt('value', 'a').split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => cipher.decrypt(parts.join('.'), 'a')).toThrow(SecretDecryptionError);
  });

  it('rotates: a new first key encrypts, the old key still decrypts, and old values are flagged for re-encryption', () => {
    const before = new SecretCipher(keysFrom(old));
    const sealedWithOld = before.encrypt('value', 'a');
    const after = new SecretCipher(keysFrom(current, old));
    expect(after.decrypt(sealedWithOld, 'a')).toBe('value');
    expect(after.needsRewrap(sealedWithOld)).toBe(true);
    expect(after.needsRewrap(after.encrypt('value', 'a'))).toBe(false);
    expect(() => new SecretCipher(keysFrom(current)).decrypt(sealedWithOld, 'a')).toThrow(
      /key "old" is not configured/,
    );
  });
});
