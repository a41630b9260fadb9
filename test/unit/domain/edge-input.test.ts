// The pure checks applied to outside input at the edge: ids, well-formed Unicode, JSON depth, zod errors named for
// an admin, and how a queue message's raw text is read and kept for a failure record.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  externalIdSchema,
  isConnectionId,
  isRunId,
  isWellFormed,
  jsonBodyProblem,
  MAX_JSON_DEPTH,
} from '../../../shared/domain/identifiers.js';
import { decodeQueueText, RAW_MESSAGE_KEPT_CHARS, rawForRecord } from '../../../shared/domain/queue-message.js';
import { newRunId } from '../../../shared/domain/reconciliation.js';
import { fieldErrors } from '../../../shared/domain/validation.js';

describe('ids', () => {
  it('a connection id is a GUID and nothing else; a run id is what newRunId makes', () => {
    expect(isConnectionId('0c2f5b1e-2f6a-4c1b-9d7e-1a2b3c4d5e6f')).toBe(true);
    for (const bad of [
      'a/b',
      '../..',
      '',
      '0c2f5b1e-2f6a-4c1b-9d7e-1a2b3c4d5e6f/x',
      '0c2f5b1e2f6a4c1b9d7e1a2b3c4d5e6f',
    ])
      expect(isConnectionId(bad)).toBe(false);
    expect(isRunId(newRunId(new Date()))).toBe(true);
    expect(isRunId('manual-1234')).toBe(false);
  });

  it('an external id may hold / \\ # ? but no control character or lone surrogate', () => {
    expect(externalIdSchema.safeParse('a/b\\c#d?e f').success).toBe(true);
    expect(externalIdSchema.safeParse('tab\there').success).toBe(false);
    expect(externalIdSchema.safeParse('sur\ud800rogate').success).toBe(false);
    expect(externalIdSchema.safeParse('x'.repeat(257)).success).toBe(false);
  });
});

describe('JSON bodies as a whole', () => {
  it('well-formed Unicode: pairs pass, lone halves do not', () => {
    expect(['a', '😀', 'é', ''].every(isWellFormed)).toBe(true);
    expect(['\ud800', 'x\udc00y', '😀\ud83d'].some(isWellFormed)).toBe(false);
  });

  it('names the field holding a lone surrogate, in a key or a value', () => {
    expect(jsonBodyProblem({ changes: [{ attributes: { givenName: 'Zo\ud800' } }] })).toEqual({
      field: 'changes.0.attributes.givenName',
      message: expect.stringMatching(/well-formed Unicode/),
    });
    expect(jsonBodyProblem({ attributes: { 'bad\udc00key': 1 } })).toEqual({
      field: 'attributes.bad\ufffdkey',
      message: expect.stringMatching(/well-formed/),
    });
    expect(jsonBodyProblem({ fine: ['ok', 1, null, { deeper: '😀' }] })).toBeUndefined();
  });

  it('refuses nesting deeper than the limit without recursing (100,000 levels is a 400, not a stack overflow)', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`) as unknown;
    expect(jsonBodyProblem(deep)).toEqual({
      field: expect.any(String),
      message: `is nested more than ${MAX_JSON_DEPTH} levels deep`,
    });
    let ok: unknown = 'leaf';
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = { a: ok };
    expect(jsonBodyProblem(ok)).toBeUndefined();
  });
});

describe('zod errors for an admin', () => {
  it('says "is required" only for a missing field, and names the type otherwise', () => {
    const schema = z.strictObject({ version: z.number(), name: z.string() });
    expect(fieldErrors(schema.safeParse({ version: 'one' }).error!)).toEqual([
      { field: 'version', message: 'expected number, received string' },
      { field: 'name', message: 'is required' },
    ]);
    expect(fieldErrors(schema.safeParse('text').error!)).toEqual([
      { field: '(body)', message: 'expected object, received string' },
    ]);
  });
});

describe('a queue message read raw', () => {
  const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

  it('reads base64 JSON as the host does, base64 text as text, and says why anything else is unreadable', () => {
    expect(decodeQueueText(b64('{"a":1}'))).toEqual({ ok: true, item: { a: 1 }, text: '{"a":1}' });
    expect(decodeQueueText(b64('plain words'))).toEqual({ ok: true, item: 'plain words', text: 'plain words' });
    expect(decodeQueueText('not base64!')).toEqual({ ok: false, reason: expect.stringMatching(/not base64/) });
    expect(decodeQueueText(b64(Buffer.from([0xff, 0xfe, 0x41])))).toEqual({
      ok: false,
      reason: expect.stringMatching(/not of UTF-8/),
    });
  });

  it('keeps raw text without secrets, well-formed and bounded', () => {
    expect(rawForRecord('x {"password": "Hunter2!", "clientSecret":"abc", "name":"n"} client_secret=zzz&a=1')).toBe(
      'x {"password": "[redacted]", "clientSecret":"[redacted]", "name":"n"} client_secret="[redacted]"&a=1',
    );
    expect(rawForRecord('lone \ud800')).toBe('lone \ufffd');
    const long = rawForRecord('y'.repeat(10_000));
    expect(long.startsWith('y'.repeat(RAW_MESSAGE_KEPT_CHARS))).toBe(true);
    expect(long).toMatch(/… \(10000 characters\)$/);
  });
});
