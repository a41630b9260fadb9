// Errors on the SCIM routes (RFC 7644 §3.12): `urn:ietf:params:scim:api:messages:2.0:Error` with the HTTP status
// as a string and, for 400/409, a `scimType` a client can act on. Thrown by the SCIM domain and use cases; the HTTP
// edge (functions/scim-support.ts) writes them, and maps the app's own errors onto them.
export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

export const scimTypes = [
  'invalidFilter',
  'tooMany',
  'uniqueness',
  'mutability',
  'invalidSyntax',
  'invalidPath',
  'noTarget',
  'invalidValue',
  'invalidVers',
  'sensitive',
] as const;
export type ScimType = (typeof scimTypes)[number];

export class ScimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: ScimType,
  ) {
    super(message);
    this.name = 'ScimError';
  }
}

export const isScimError = (e: unknown): e is ScimError => e instanceof ScimError;

export const invalidValue = (message: string) => new ScimError(400, message, 'invalidValue');
export const invalidSyntax = (message: string) => new ScimError(400, message, 'invalidSyntax');
export const notFound = (what: string) => new ScimError(404, `${what} not found`);

/** The error body (RFC 7644 §3.12). */
export const scimErrorBody = (e: ScimError) => ({
  schemas: [SCIM_ERROR_SCHEMA],
  status: String(e.status),
  ...(e.scimType ? { scimType: e.scimType } : {}),
  detail: e.message,
});
