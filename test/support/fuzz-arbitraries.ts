// fast-check generators for hostile HTTP input (issue 13): path parameter values, query strings, request
// bodies and headers, derived from the OpenAPI document the app serves. Values are bounded so a request stays
// well under the host's limits (URL < 16 KB, body ≤ ~2 MB) and a case tests the app, not the socket.
import fc from 'fast-check';

/** The subset of JSON Schema (draft 2020-12, as zod emits it) the generators understand. */
export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query';
  schema: JsonSchema;
}

export interface OpenApiDocument {
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        parameters?: OpenApiParameter[];
        requestBody?: { content: Record<string, { schema: JsonSchema }> };
      }
    >
  >;
}

/** One (method, path template) of the document. */
export interface Operation {
  operationId: string;
  method: string;
  template: string;
  pathParams: string[];
  queryParams: OpenApiParameter[];
  bodySchema: JsonSchema | undefined;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([template, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      operationId: op.operationId,
      method: method.toUpperCase(),
      template,
      pathParams: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      queryParams: (op.parameters ?? []).filter((p) => p.in === 'query'),
      bodySchema: op.requestBody?.content['application/json']?.schema,
    })),
  );
}

// ---------------------------------------------------------------------------------------------- strings

const LONE_SURROGATES = ['\ud800', '\udfff', 'a\ud800b', '\udc00\ud800', 'x\ud83d'];

/** A short string with one lone UTF-16 surrogate in it (JSON.stringify writes it as a \\uXXXX escape). */
export const loneSurrogateString = () =>
  fc
    .tuple(fc.string({ maxLength: 6 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 6 }))
    .map(([a, unit, b]) => `${a}${String.fromCharCode(unit)}${b}`);
const TRICKY = [
  'a/b',
  'a\\b',
  '#',
  '?',
  'a?b=c',
  'a#b',
  '../../health',
  '..\\..\\',
  '%2F',
  'a%2Fb',
  '%',
  '%zz',
  '%00',
  ' ',
  '\t',
  ' a ',
  '\u0000',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
  '\ufeff',
  '\u202e',
  '😀',
  'Ωmega',
  'ß',
  'İ',
  'e\u0301',
  '<script>alert(1)</script>',
  "'; DROP TABLE x--",
  "PartitionKey eq ''",
  "' or ''='",
  '${x}',
  '{{x}}',
  '*',
  'null',
  'undefined',
  'true',
  '-1',
  '0',
  'NaN',
  '1e309',
  'CON',
  'aux.txt',
  '.git',
  '~',
  '@',
  '&',
  '=',
  '+',
  '\r\nX-Injected: 1',
];

/**
 * Strings that break naive code: separators, encodings, control characters, lone UTF-16 surrogates, unicode,
 * and long runs (ASCII up to `longMax` characters, multi-byte ones a twelfth of that).
 */
export function hostileString(longMax: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...TRICKY) },
    { weight: 2, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
    { weight: 2, arbitrary: loneSurrogateString() },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
        minLength: 1,
        maxLength: 8,
      }),
    },
    { weight: 2, arbitrary: fc.integer({ min: 257, max: Math.max(258, longMax) }).map((n) => 'a'.repeat(n)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 20, max: Math.max(21, Math.floor(longMax / 12)) }),
          fc.constantFrom('é', '😀', '%', '/', '<', '\u0000'),
        )
        .map(([n, c]) => c.repeat(n)),
    },
  );
}

// ---------------------------------------------------------------------------------------------- path values

/** Percent-encodes one path segment; a lone surrogate becomes its WTF-8 bytes (which no UTF-8 decoder accepts). */
export function encodeSegment(value: string): string {
  let out = '';
  for (const ch of value) {
    const unit = ch.charCodeAt(0);
    if (ch.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      out += [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
        .map((b) => `%${b.toString(16).toUpperCase()}`)
        .join('');
    } else {
      out += encodeURIComponent(ch);
    }
  }
  return out;
}

/** Segments sent as they are (already encoded): encoded separators and dot segments, bad escapes. */
const RAW_SEGMENTS = [
  'a%2Fb',
  '%2e%2e%2f',
  '..%2F..%2Fhealth',
  '%2e%2e%2f%2e%2e%2fhealth',
  '%2F',
  '%5C',
  '%00',
  '%ED%A0%80',
  '%zz',
  '%',
  '%25',
  '%2F%2F',
  'a%3Fb',
  'a%23b',
  '%20',
];

/**
 * A path parameter value, already encoded for the URL: one of the `real` values (the fixture's), a random GUID,
 * or a hostile one. `.` and `..` are left out: fetch resolves them as dot segments, so they never reach the server.
 */
export function pathValue(real: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(...(real.length ? [{ weight: 1, arbitrary: fc.constantFrom(...real).map(encodeSegment) }] : []), {
    weight: 1,
    arbitrary: hostilePathValue(),
  });
}

/** A path parameter value that is not the fixture's: a random GUID (either case) or a hostile value, encoded. */
export function hostilePathValue(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
    {
      weight: 4,
      arbitrary: hostileString(2000)
        .filter((s) => s !== '.' && s !== '..')
        .map(encodeSegment),
    },
    { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  );
}

// ---------------------------------------------------------------------------------------------- plausible values

const GUID_PATTERN = /\[0-9a-f\]\{8\}/i;
const isoDate = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());

/** A minted external id: unique per case, so a test can ask later whether the app stored that user. */
export const mintedExternalId = () => fc.noBias(fc.uuid()).map((u) => `fz-${u}`);
export const MINTED_EXTERNAL_ID = /fz-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function plausibleString(schema: JsonSchema, name: string | undefined): fc.Arbitrary<string> {
  if (schema.pattern && GUID_PATTERN.test(schema.pattern)) return fc.uuid();
  if (schema.pattern === '^\\d+$') return fc.integer({ min: 0, max: 999 }).map(String);
  if (schema.format === 'date-time') return isoDate;
  if (name === 'externalId') return mintedExternalId();
  if (name === 'domain') return fc.constantFrom('contoso.example', 'fabrikam.example');
  if (name === 'authorityHost' || name === 'graphEndpoint')
    return fc.constantFrom('https://login.example.com', 'https://graph.example.com');
  if (name === 'authorizationEndpoint') return fc.constant('https://login.example.com/tenant/oauth2/v2.0/authorize');
  if (name === 'tokenEndpoint') return fc.constant('https://login.example.com/tenant/oauth2/v2.0/token');
  if (schema.format === 'uri') return fc.constant('https://example.com');
  const minLength = schema.minLength ?? 0;
  return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 24, 24)) });
}

/** A value that mostly satisfies `schema` (the shape a well-meaning client sends). */
export function plausible(schema: JsonSchema, name?: string): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum?.length) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => plausible(s, name)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return plausibleString(schema, name);
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : 0);
      return fc.integer({ min, max: Math.max(min, Math.min(schema.maximum ?? min + 1000, min + 1000)) });
    }
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const minLength = schema.minItems ?? 0;
      return fc.array(schema.items ? plausible(schema.items) : fc.jsonValue({ maxDepth: 1 }), {
        minLength,
        maxLength: Math.max(minLength, Math.min(schema.maxItems ?? 3, 3)),
      });
    }
    case 'object': {
      const props = schema.properties ?? {};
      const required = schema.required ?? [];
      const fixed = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, plausible(s, k)])), {
        requiredKeys: required,
      });
      if (typeof schema.additionalProperties !== 'object') return fixed;
      const extra = fc.dictionary(
        schema.propertyNames
          ? plausibleString(schema.propertyNames, undefined)
          : fc.string({ minLength: 1, maxLength: 12 }),
        plausible(schema.additionalProperties),
        { maxKeys: 3 },
      );
      return fc.tuple(fixed, extra).map(([a, b]) => ({ ...b, ...a }));
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------------------------------------- hostile values

/** Nested arrays `depth` deep (built iteratively). */
export function nested(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** Strings that look almost right to a validator: empty, a bare word, URLs of the wrong kind, odd dates and ids. */
const NEAR_MISSES = [
  '',
  'x',
  ' ',
  'https://',
  'http://x',
  'https://a b',
  'https://x/path?q=1',
  'ftp://x',
  '//x',
  'javascript:alert(1)',
  'https://[::1',
  'https://x:99999',
  '2024-02-30T00:00:00Z',
  '2024-01-01',
  '0000-00-00T00:00:00Z',
  '00000000-0000-0000-0000-00000000000g',
  '{00000000-0000-0000-0000-000000000000}',
  'contoso',
  'a..b.com',
];

/** A value of the wrong type, size or encoding for whatever field it replaces. */
export function hostileValue(): fc.Arbitrary<unknown> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom<unknown>(
        null,
        true,
        false,
        0,
        -1,
        -0.5,
        1.5,
        1e308,
        -1e308,
        2 ** 53 + 2,
        '',
        ' ',
        [],
        {},
        [[]],
        { '': '' },
        ['x'],
      ),
    },
    { weight: 3, arbitrary: fc.constantFrom(...NEAR_MISSES) },
    { weight: 3, arbitrary: hostileString(100_000) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).map((d) => nested(d)) },
    {
      weight: 1,
      arbitrary: fc.dictionary(hostileString(300), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 3 }),
    },
  );
}

/** Every path to a key or array element in `value` (objects and arrays, a few levels down). */
function pathsOf(value: unknown, prefix: (string | number)[] = [], depth = 0): (string | number)[][] {
  if (depth > 4 || typeof value !== 'object' || value === null) return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k], depth + 1)]);
}

function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value))
    return (value as unknown[]).map((v, i) => (i === head ? replaceAt(v, rest, replacement) : v));
  const obj = value as Record<string, unknown>;
  return { ...obj, [head!]: replaceAt(obj[head!], rest, replacement) };
}

/** A plausible value with one field (at any depth), or an added unknown field, replaced by a hostile value. */
export function mutatedOne(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc
    .tuple(plausible(schema), hostileValue(), fc.nat(), fc.nat(5), hostileString(64))
    .map(([value, bad, pick, addUnknown, unknownName]) => {
      const paths = pathsOf(value);
      if (addUnknown === 0 || paths.length === 0) {
        return typeof value === 'object' && value !== null && !Array.isArray(value)
          ? { ...value, [unknownName]: bad }
          : bad;
      }
      return replaceAt(value, paths[pick % paths.length]!, bad);
    });
}

/** A plausible object with each top-level field replaced by a hostile value at a time (about a third of them). */
export function mutatedMany(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.tuple(plausible(schema), fc.infiniteStream(fc.tuple(fc.nat(2), hostileValue()))).map(([value, stream]) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
    const draws = stream.take(Object.keys(value).length);
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        const [coin, bad] = draws.next().value as [number, unknown];
        return [k, coin === 0 ? bad : v];
      }),
    );
  });
}

/** Long runs: under, around and over the 64 KB of a queue message, up to ~100 KB. */
export const oversizedString = () =>
  fc
    .tuple(fc.constantFrom(30_000, 65_536, 70_000, 100_000), fc.constantFrom('x', 'é', '😀', '\\', '"'))
    .map(([n, c]) => c.repeat(Math.ceil(n / c.length)));

/** A plausible value with one string in it (at any depth, or a new attribute-like field) made oversized. */
export function oversized(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.tuple(plausible(schema), oversizedString(), fc.nat()).map(([value, big, pick]) => {
    const paths = pathsOf(value).filter(
      (p) => typeof p.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value) === 'string',
    );
    if (paths.length === 0)
      return typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { ...value, description: big }
        : big;
    return replaceAt(value, paths[pick % paths.length]!, big);
  });
}

// ---------------------------------------------------------------------------------------------- bodies

export type Body = string | Uint8Array<ArrayBuffer>;

function serialise(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return String(value);
  }
}

const RAW_TEXT = [
  '',
  ' ',
  '\n\t \r\n',
  '123',
  'true',
  'false',
  'null',
  '"str"',
  '""',
  '[]',
  '{}',
  '-0',
  '1e999',
  '{',
  '{"a":',
  '[1,]',
  'NaN',
  "{'a':1}",
  '\u0000',
  '\ufeff{}',
  '{"a":1}garbage',
  '{"a":1}{"b":2}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '{"changes":null}',
  '{"changes":{}}',
  '{"changes":[]}',
  '{"changes":[null]}',
  '{"changes":[1,"x",true]}',
  '"\\ud800"',
  '{"externalId":"\\ud800"}',
  '{"a":"\\udfff\\ud800"}',
  '{"\\ud800":1}',
  'a=1&b=2',
  '<xml/>',
  '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
];

/** Raw JSON text nested `depth` deep, as arrays or objects, optionally inside a field named `field`. */
const deepText = fc
  .tuple(
    fc.integer({ min: 1000, max: 100_000 }),
    fc.boolean(),
    fc.constantFrom('', 'changes', 'attributes', 'properties'),
  )
  .map(([depth, asObjects, field]) => {
    const inner = asObjects
      ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
      : `${'['.repeat(depth)}${']'.repeat(depth)}`;
    return field ? `{"${field}":${inner}}` : inner;
  });

/** A request body: schema-shaped with fields made hostile or oversized, JSON of any shape, non-JSON text, or bytes. */
export function body(
  schema: JsonSchema | undefined,
  extra: fc.Arbitrary<unknown>[] = [],
  extraWeight = 6,
): fc.Arbitrary<Body> {
  const shaped = schema
    ? [
        { weight: 5, arbitrary: mutatedOne(schema).map(serialise) },
        { weight: 4, arbitrary: mutatedMany(schema).map(serialise) },
        { weight: 2, arbitrary: oversized(schema).map(serialise) },
        { weight: 1, arbitrary: plausible(schema).map(serialise) },
      ]
    : [];
  return fc.oneof(
    ...shaped,
    ...extra.map((arbitrary) => ({ weight: extraWeight, arbitrary: arbitrary.map(serialise) })),
    { weight: 2, arbitrary: fc.jsonValue().map(serialise) },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 3 }).map(serialise) },
    { weight: 3, arbitrary: fc.constantFrom(...RAW_TEXT) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: deepText },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  );
}

// ---------------------------------------------------------------------------------------------- query strings

const base64 = (s: string, url = false) => Buffer.from(s).toString(url ? 'base64url' : 'base64');

/** Garbage for a query parameter: wrong types, huge and negative numbers, fake continuation tokens. */
export function hostileQueryValue(): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        'abc',
        '-1',
        '0',
        '-0',
        '1.5',
        '1e309',
        '99999999999999999999',
        '9007199254740993',
        '0x10',
        'Infinity',
        'NaN',
        'TRUE',
        'yes',
        '',
        ' ',
        '[]',
        '{}',
        'null',
        'undefined',
      ),
    },
    { weight: 3, arbitrary: hostileString(2000) },
    { weight: 1, arbitrary: fc.integer().map(String) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), fc.boolean()).map(([v, url]) => base64(serialise(v), url)),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(hostileString(200), hostileString(200), fc.boolean())
        .map(([pk, rk, url]) => base64(serialise({ nextPartitionKey: pk, nextRowKey: rk }), url)),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')) },
  );
}

/** Appended to the encoded query as they are: bad escapes, repeated and empty parameters. */
const RAW_QUERY_SUFFIXES = [
  '',
  '',
  '',
  '',
  '&%',
  '&limit=%zz',
  '&continuation=%ED%A0%80',
  '&limit=1&limit=2',
  '&=',
  '&&',
  '&a[b]=1',
  '&continuation',
  '&limit',
  '&%00=%00',
];

const toQuery = (entries: [string, string | undefined][], suffix = '') => {
  const q = new URLSearchParams(entries.filter((e): e is [string, string] => e[1] !== undefined));
  const text = `${q.toString()}${suffix}`;
  return text ? `?${text}` : '';
};

/** A value of a documented parameter a client may send as is (enums, numbers, dates); free text is left out. */
const validQueryValue = (p: OpenApiParameter) =>
  p.schema.enum || p.schema.type === 'integer' || p.schema.type === 'number' || p.schema.format === 'date-time'
    ? fc.option(plausible(p.schema).map(String), { nil: undefined, freq: 2 })
    : fc.constant(undefined);

/** Documented parameters only, each absent or valid. */
export function validQuery(params: readonly OpenApiParameter[]): fc.Arbitrary<string> {
  return fc.tuple(...params.map(validQueryValue)).map((values) => toQuery(params.map((p, i) => [p.name, values[i]])));
}

/**
 * One parameter hostile, the others absent or valid: free-text parameters (continuation, externalId) are picked
 * three times as often, since enums and numbers are the first thing a validator checks.
 */
export function oneHostileQuery(params: readonly OpenApiParameter[]): fc.Arbitrary<string> {
  const weights = params.map((p) => (p.schema.type === 'string' && !p.schema.enum && !p.schema.format ? 3 : 1));
  const choice = fc.oneof(...params.map((p, i) => ({ weight: weights[i]!, arbitrary: fc.constant(p.name) })), {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('code', 'LIMIT', 'x', '$filter', '__proto__'),
      fc.string({ minLength: 1, maxLength: 10 }),
    ),
  });
  return fc
    .tuple(
      fc.tuple(...params.map(validQueryValue)),
      choice,
      hostileQueryValue(),
      fc.constantFrom(...RAW_QUERY_SUFFIXES),
    )
    .map(([values, name, bad, suffix]) => {
      const entries: [string, string | undefined][] = params.map((p, i) => [p.name, values[i]]);
      const at = entries.findIndex(([n]) => n === name);
      if (at >= 0) entries[at] = [name, bad];
      else entries.push([name, bad]);
      return toQuery(entries, suffix);
    });
}

/** A query string (with its `?`, or empty): every documented parameter absent, valid or hostile, plus unknown ones. */
export function queryString(params: readonly OpenApiParameter[]): fc.Arbitrary<string> {
  const documented = fc.tuple(
    ...params.map((p) =>
      fc.option(
        fc.oneof(
          plausible(p.schema).map((v) => String(v)),
          hostileQueryValue(),
        ),
        { nil: undefined, freq: 3 },
      ),
    ),
  );
  const unknown = fc.dictionary(
    fc.oneof(
      fc.constantFrom('code', 'limit', 'LIMIT', 'x', '$filter', '__proto__'),
      fc.string({ minLength: 1, maxLength: 10 }),
    ),
    hostileQueryValue(),
    { maxKeys: 2 },
  );
  return fc
    .tuple(documented, fc.option(unknown, { nil: undefined, freq: 3 }), fc.constantFrom(...RAW_QUERY_SUFFIXES))
    .map(([values, extra, suffix]) => {
      const q = new URLSearchParams();
      params.forEach((p, i) => {
        if (values[i] !== undefined) q.append(p.name, values[i]);
      });
      // `code` is the function key parameter: the header carries the key, so a wrong `code` is just noise.
      for (const [k, v] of Object.entries(extra ?? {})) q.append(k, v);
      const text = `${q.toString()}${suffix}`;
      return text ? `?${text}` : '';
    });
}

// ---------------------------------------------------------------------------------------------- headers

export function requestHeaders(): fc.Arbitrary<Record<string, string>> {
  return fc
    .record({
      'content-type': fc.constantFrom(
        undefined,
        'application/json',
        'application/json; charset=utf-8',
        'application/json; charset=utf-16',
        'application/problem+json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/xml',
        '*/*',
        '',
      ),
      accept: fc.constantFrom(undefined, 'application/json', 'text/html', '*/*', 'application/xml'),
    })
    .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>);
}
