// The HTTP edge of configuration writes: ETag / If-Match (RFC 9110 §8.8.3, §13.1.1), merge-patch bodies
// (RFC 7396) and who is writing (for the audit log).
//
// ETags: the connection row's Table Storage ETag (`W/"datetime'…'"`) sent as an opaque strong entity tag, its
// base64url in quotes; If-Match takes that tag back (a list, or `*`) and the write is made conditional on the Table
// ETag it decodes to. If-Match compares strongly: a weak tag (`W/"…"`) never matches.
import { createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import type { Actor } from '../shared/domain/config-audit.js';
import { AppError, ValidationError } from '../shared/domain/errors.js';
import type { ConfigWrite } from '../shared/provisioning/connections.js';
import { callerOf } from './http-caller.js';
import { readBody } from './http-support.js';
import { services } from './services.js';

/** The `ETag` response header for a stored ETag (none when there is none). */
export const etagHeader = (storedEtag: string | undefined): Record<string, string> =>
  storedEtag ? { etag: entityTag(storedEtag) } : {};

export const entityTag = (storedEtag: string) => `"${Buffer.from(storedEtag, 'utf8').toString('base64url')}"`;

const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;

/**
 * If-Match as the stored ETags it names: undefined when absent or `*` (the connection exists, or the use case
 * answers 404 first). Weak tags are dropped (they never match); a malformed header is a 400.
 */
export function ifMatchOf(request: HttpRequest): string[] | undefined {
  const header = request.headers.get('if-match');
  if (header === null || header.trim() === '*') return undefined;
  const tags = header.split(',').map((t) => t.trim());
  const parsed = tags.map((t) => ENTITY_TAG.exec(t));
  if (parsed.some((m) => !m))
    throw new ValidationError(
      [{ field: 'If-Match', message: 'must be * or a list of entity tags, e.g. "abc" (as the ETag header gave it)' }],
      'The If-Match header is not valid',
    );
  return parsed
    .filter((m) => !m![1])
    .map((m) => Buffer.from(m![2]!, 'base64url').toString('utf8'))
    .filter((etag) => etag !== '');
}

/**
 * Who is calling, when no sign-in decided it (functions/http-auth.ts does for every admin route): the signed-in user
 * when App Service authentication is on (WEBSITE_AUTH_ENABLED: only then are its x-ms-client-principal-* headers the
 * platform's and not anyone's); else the function key, by fingerprint — the Functions host does not pass a key's
 * name to a Node.js function (its key-id claim reaches .NET code only).
 */
export function actorOf(request: Pick<HttpRequest, 'headers' | 'query'>, appServiceAuth: boolean): Actor {
  const principal = appServiceAuth ? easyAuthActor(request) : undefined;
  if (principal) return principal;
  return keyActor(functionKeyOf(request));
}

/** The function key a request carries (`x-functions-key` or `?code=`), if any. */
export const functionKeyOf = (request: Pick<HttpRequest, 'headers' | 'query'>) =>
  request.headers.get('x-functions-key') ?? request.query.get('code');

/** A function key as an actor, by fingerprint. */
export const keyActor = (key: string | null): Actor =>
  key ? { type: 'function-key', keyId: keyFingerprint(key) } : { type: 'function-key' };

/** App Service authentication's x-ms-client-principal-* headers as an actor (trust them only with WEBSITE_AUTH_ENABLED). */
export function easyAuthActor(
  request: Pick<HttpRequest, 'headers'>,
): Extract<Actor, { type: 'principal' }> | undefined {
  const principal = request.headers.get('x-ms-client-principal-name');
  if (!principal) return undefined;
  const id = request.headers.get('x-ms-client-principal-id');
  const idp = request.headers.get('x-ms-client-principal-idp');
  return { type: 'principal', name: principal, ...(id ? { id } : {}), ...(idp ? { identityProvider: idp } : {}) };
}

/** `sha256:` and the first 12 hex digits of the key's SHA-256: names a key without revealing it. */
export const keyFingerprint = (key: string) =>
  `sha256:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 12)}`;

/** Who makes a write: the authenticated caller of the admin route. */
export const writerOf = (request: HttpRequest): Actor =>
  callerOf(request)?.actor ?? actorOf(request, services().config.WEBSITE_AUTH_ENABLED);

/** The caller and its If-Match, for a configuration write. */
export const configWrite = (request: HttpRequest): ConfigWrite => ({
  actor: writerOf(request),
  ifMatch: ifMatchOf(request),
});

const PATCH_TYPES = ['application/merge-patch+json', 'application/json'];

/** A PATCH body: JSON Merge Patch (or plain JSON, read the same way); another patch format is a 415. */
export async function readMergePatch(request: HttpRequest): Promise<unknown> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type && !PATCH_TYPES.includes(type))
    throw new AppError(
      'invalid',
      'unsupported-media-type',
      `PATCH takes a JSON Merge Patch (RFC 7396): send it as ${PATCH_TYPES.join(' or ')}, not ${type}`,
      { accepted: PATCH_TYPES },
    );
  return readBody(request, z.unknown());
}

/** Advertised on the resources that take PATCH (RFC 5789 §3.1). */
export const acceptPatch = { 'accept-patch': PATCH_TYPES[0]! };

/**
 * The OpenAPI description of a merge patch of `schema`'s object: every member optional and nullable (null
 * removes or resets it); documentation only — the merged result is validated with `schema` itself.
 */
export function mergePatchSchema(schema: z.ZodType): z.ZodType {
  return z
    .object(
      Object.fromEntries(
        Object.entries(objectOf(schema).shape).map(([name, member]) => [
          name,
          z.union([member as z.ZodType, z.null()]).optional(),
        ]),
      ),
    )
    .describe('JSON Merge Patch (RFC 7396): members to change; null removes a member (a setting takes its default)');
}

/** The object schema under a preprocess or pipe. */
function objectOf(schema: z.ZodType): z.ZodObject {
  if (schema instanceof z.ZodObject) return schema;
  if (schema instanceof z.ZodPipe) return objectOf(schema.out as z.ZodType);
  throw new Error('mergePatchSchema: not an object schema');
}
