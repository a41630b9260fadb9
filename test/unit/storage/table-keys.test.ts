// Keys and columns built from outside input: no input can fail a request or address another row, and a JSON value
// longer than one Table string is split and joined back exactly.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../shared/domain/errors.js';
import { isWellFormed } from '../../../shared/domain/identifiers.js';
import {
  decodeKey,
  encodeKey,
  isJsonColumnPart,
  readJsonColumn,
  writeJsonColumn,
} from '../../../shared/storage/table-keys.js';

describe('encodeKey', () => {
  it('escapes the characters a Table key may not hold, reversibly, and leaves GUIDs and run ids as they are', () => {
    for (const id of ['a/b', 'a\\b', '#?', '../..', 'ünï cödé', "o'brien"]) {
      const key = encodeKey(id);
      expect(key).not.toMatch(/[/\\#?\p{Cc}]/u);
      expect(decodeKey(key)).toBe(id);
    }
    expect(encodeKey('0c2f5b1e-2f6a-4c1b-9d7e-1a2b3c4d5e6f')).toBe('0c2f5b1e-2f6a-4c1b-9d7e-1a2b3c4d5e6f');
    expect(encodeKey('9998234567890-abcdef12')).toBe('9998234567890-abcdef12');
    expect(encodeKey('_unknown')).toBe('_unknown');
  });

  it('refuses a lone surrogate as invalid input (never a transient storage error)', () => {
    expect(() => encodeKey('x\ud800')).toThrow(AppError);
    try {
      encodeKey('x\ud800');
    } catch (error) {
      expect(error).toMatchObject({ kind: 'invalid', code: 'invalid-key' });
    }
  });
});

describe('JSON columns over several Table strings', () => {
  it('writes one column when it fits, parts when it does not, and reads back the same value', () => {
    const small: Record<string, unknown> = {};
    writeJsonColumn(small, 'desired', { a: 1 });
    expect(small).toEqual({ desired: '{"a":1}' });

    // Emoji everywhere, so some cut falls between the halves of a surrogate pair unless it is moved.
    const value = {
      attributes: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, `${'😀'.repeat(300)}${i}`])),
    };
    const entity: Record<string, unknown> = {};
    writeJsonColumn(entity, 'desired', value);
    const parts = Object.keys(entity);
    expect(parts.length).toBeGreaterThan(3);
    expect(parts.slice(1).every(isJsonColumnPart)).toBe(true);
    for (const part of Object.values(entity) as string[]) {
      expect(part.length).toBeLessThanOrEqual(30_000);
      expect(isWellFormed(part)).toBe(true);
    }
    expect(readJsonColumn(entity, 'desired')).toEqual(value);
  });
});
