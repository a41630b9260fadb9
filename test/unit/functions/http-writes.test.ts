import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { actorOf, entityTag, ifMatchOf, keyFingerprint } from '../../../functions/http-writes.js';

const request = (headers: Record<string, string>, query = '') =>
  new HttpRequest({ method: 'PATCH', url: `http://localhost/api/connections/x${query}`, headers });

describe('If-Match', () => {
  const stored = `W/"datetime'2025-01-01T00%3A00%3A00.1234567Z'"`;

  it('gives the stored ETag back from the tag the ETag header carried; * and none mean no precondition', () => {
    expect(entityTag(stored)).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(ifMatchOf(request({ 'if-match': entityTag(stored) }))).toEqual([stored]);
    expect(ifMatchOf(request({ 'if-match': `"other", ${entityTag(stored)}` }))).toContain(stored);
    expect(ifMatchOf(request({ 'if-match': '*' }))).toBeUndefined();
    expect(ifMatchOf(request({}))).toBeUndefined();
  });

  it('never matches a weak tag (strong comparison) and refuses a malformed header', () => {
    expect(ifMatchOf(request({ 'if-match': `W/${entityTag(stored)}` }))).toEqual([]);
    expect(() => ifMatchOf(request({ 'if-match': 'unquoted' }))).toThrow(/If-Match/);
  });
});

describe('who made a change', () => {
  const key = 'a-function-key-value';

  it('is the function key, by fingerprint (header or ?code=), never the key itself', () => {
    const fromHeader = actorOf(request({ 'x-functions-key': key }), false);
    expect(fromHeader).toEqual({ type: 'function-key', keyId: keyFingerprint(key) });
    expect(keyFingerprint(key)).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(JSON.stringify(fromHeader)).not.toContain(key);
    expect(actorOf(request({}, `?code=${key}`), false)).toEqual(fromHeader);
  });

  it('is the signed-in principal only when App Service authentication is on (else anyone could send the header)', () => {
    const headers = {
      'x-functions-key': key,
      'x-ms-client-principal-name': 'alice@contoso.com',
      'x-ms-client-principal-id': '00000000-0000-4000-8000-000000000001',
      'x-ms-client-principal-idp': 'aad',
    };
    expect(actorOf(request(headers), true)).toEqual({
      type: 'principal',
      name: 'alice@contoso.com',
      id: '00000000-0000-4000-8000-000000000001',
      identityProvider: 'aad',
    });
    expect(actorOf(request(headers), false)).toEqual({ type: 'function-key', keyId: keyFingerprint(key) });
  });
});
