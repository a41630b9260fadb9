// What Microsoft 365 needs to create an account (POST /users), as one rule for two places: POST …/changes refuses a
// change that would create an account Graph would refuse (the admin hears it at once), and the executor checks the
// same before it sends the create (a change that came straight onto the queue).
import { AppError } from './errors.js';
import { NOT_UPN_CHAR } from './mapping/expression.js';
import { REQUIRED_ON_CREATE } from './mapping/graph-user-properties.js';

export interface CreateProblem {
  /** The Graph property, dotted for a field of a complex one (`passwordProfile.password`). */
  property: string;
  /** `missing`: no value; `invalid`: a value Microsoft Entra refuses. */
  kind: 'missing' | 'invalid';
  /** The value as shown in messages (never for secrets). */
  shown?: string;
  /** `invalid`: why Entra refuses the value. */
  reason?: string;
}

// Entra's username policy ("Password policies and account restrictions in Microsoft Entra ID",
// learn.microsoft.com/entra/identity/authentication/concept-sspr-policy#username-policies): before the "@"
// A–Z a–z 0–9 ' . - _ ! # ^ ~, at most 64 characters, no "." right before the "@"; at most 48 characters after it,
// 113 in all; no "@" other than the one that separates the two.
const UPN_ALLOWED = `A–Z a–z 0–9 ' . - _ ! # ^ ~`;
const UPN_MAX_LOCAL = 64;
const UPN_MAX_DOMAIN = 48;
const UPN_MAX_TOTAL = 113;

/** Why Microsoft Entra refuses `upn` as a userPrincipalName, or undefined when it is a valid one. */
export function upnProblem(upn: string): string | undefined {
  const at = upn.split('@').length - 1;
  if (at === 0) return 'it has no "@" (name@domain)';
  if (at > 1) return 'it has more than one "@"';
  const [local, domain] = upn.split('@') as [string, string];
  if (local === '') return `nothing before the "@" (allowed: ${UPN_ALLOWED})`;
  const bad = [...new Set(local.match(NOT_UPN_CHAR) ?? [])];
  if (bad.length > 0)
    return `${bad
      .slice(0, 5)
      .map((c) => JSON.stringify(c))
      .join(', ')}${bad.length > 5 ? ', …' : ''} not allowed before the "@" (allowed: ${UPN_ALLOWED})`;
  if (local.length > UPN_MAX_LOCAL) return `${local.length} characters before the "@" (at most ${UPN_MAX_LOCAL})`;
  if (local.endsWith('.')) return 'a "." right before the "@"';
  if (domain === '') return 'nothing after the "@"';
  if (domain.length > UPN_MAX_DOMAIN) return `${domain.length} characters after the "@" (at most ${UPN_MAX_DOMAIN})`;
  if (upn.length > UPN_MAX_TOTAL) return `${upn.length} characters (at most ${UPN_MAX_TOTAL})`;
  return undefined;
}

const valueAt = (values: Record<string, unknown>, property: string): unknown => {
  const [top, field] = property.split('.') as [string, string | undefined];
  const value = values[top];
  if (field === undefined) return value;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
};
const isEmpty = (v: unknown) => v === undefined || v === null || v === '';
/** A value as messages show it: JSON, cut to about 60 characters. */
export const quote = (v: unknown): string => {
  const json = JSON.stringify(v) ?? String(v);
  return json.length > 64 ? `${json.slice(0, 60)}…` : json;
};

/**
 * Everything about `values` (the Graph user body the mapping produced for a create) that makes POST /users fail:
 * a property it needs with no value (REQUIRED_ON_CREATE), or a userPrincipalName Entra does not accept.
 */
export function createProblems(values: Record<string, unknown>): CreateProblem[] {
  const problems: CreateProblem[] = [];
  for (const property of REQUIRED_ON_CREATE) {
    if (isEmpty(valueAt(values, property))) problems.push({ property, kind: 'missing' });
  }
  const upn = values.userPrincipalName;
  if (typeof upn === 'string' && upn !== '') {
    const why = upnProblem(upn);
    if (why) problems.push({ property: 'userPrincipalName', kind: 'invalid', shown: quote(upn), reason: why });
  }
  return problems;
}

/**
 * What the characters that survive into a property are (the default mapping drops the others: upnSafe and
 * mailNicknameSafe in expression.ts), for a value that came out empty.
 */
export const ALLOWED_CHARACTERS: Readonly<Record<string, string>> = {
  userPrincipalName: `Entra allows only ${UPN_ALLOWED} before the "@"`,
  mailNickname: "Exchange allows only A–Z a–z 0–9 ! # $ % & ' * + - / = ? ^ _ ` { | } ~ and . in an alias",
};

/**
 * One sentence: `displayName has no value (context), and Microsoft 365 needs one to create a user`, or
 * `userPrincipalName "x" (context) is not valid in Microsoft Entra: why`. `context` says where the value came from.
 */
export function describeCreateProblem(p: CreateProblem, context?: string): string {
  const note = context ? ` (${context})` : '';
  return p.kind === 'missing'
    ? `${p.property} has no value${note}, and Microsoft 365 needs one to create a user`
    : `${p.property}${p.shown ? ` ${p.shown}` : ''}${note} is not valid in Microsoft Entra: ${p.reason}`;
}

/** Throws (kind invalid: a retry cannot help) when POST /users would refuse `values`. */
export function assertCreatable(values: Record<string, unknown>): void {
  const problems = createProblems(values);
  if (problems.length === 0) return;
  throw new AppError(
    'invalid',
    problems.some((p) => p.kind === 'missing') ? 'required-properties-missing' : 'invalid-user-principal-name',
    `Cannot create the account: ${problems.map((p) => describeCreateProblem(p)).join('; ')} (check the mapping and the user's attributes)`,
  );
}
