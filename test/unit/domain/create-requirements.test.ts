import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { assertCreatable, createProblems, upnProblem } from '../../../shared/domain/create-requirements.js';
import { fieldErrors } from '../../../shared/domain/validation.js';

describe('what POST /users needs (create-requirements)', () => {
  const complete = {
    accountEnabled: true,
    displayName: 'Zoë Müller',
    mailNickname: 'zoe.muller',
    userPrincipalName: 'zoe.muller@contoso.example',
    passwordProfile: { password: 'Initial-Pa55word!', forceChangePasswordNextSignIn: true },
  };

  it('a complete body has no problem', () => {
    expect(createProblems(complete)).toEqual([]);
    expect(() => assertCreatable(complete)).not.toThrow();
  });

  it('names each missing property, the password inside passwordProfile included', () => {
    const { displayName: _d, ...noName } = complete;
    expect(createProblems({ ...noName, mailNickname: '', passwordProfile: {} })).toEqual([
      { property: 'displayName', kind: 'missing' },
      { property: 'mailNickname', kind: 'missing' },
      { property: 'passwordProfile.password', kind: 'missing' },
    ]);
    expect(() => assertCreatable({ ...complete, displayName: null })).toThrow(
      expect.objectContaining({ code: 'required-properties-missing' }),
    );
  });

  it.each([
    ['zoe.muller@contoso.example', undefined],
    ["o'brien-x_y!#^~@contoso.example", undefined],
    ['@contoso.example', 'nothing before the "@"'],
    ['zoe', 'it has no "@" (name@domain)'],
    ['a@b@contoso.example', 'it has more than one "@"'],
    ['李雷@contoso.example', '"李", "雷" not allowed before the "@"'],
    ['zoe müller@contoso.example', '" ", "ü" not allowed before the "@"'],
    ['zoe.@contoso.example', 'a "." right before the "@"'],
    [`${'a'.repeat(65)}@contoso.example`, '65 characters before the "@" (at most 64)'],
    [`zoe@${'d'.repeat(49)}`, '49 characters after the "@" (at most 48)'],
    ['zoe@', 'nothing after the "@"'],
  ])('userPrincipalName %j: %s', (upn, problem) => {
    const why = upnProblem(upn);
    if (problem === undefined) expect(why).toBeUndefined();
    else expect(why).toMatch(new RegExp(`^${problem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('an invalid userPrincipalName is its own error code', () => {
    expect(() => assertCreatable({ ...complete, userPrincipalName: 'zoe.@contoso.example' })).toThrow(
      expect.objectContaining({ code: 'invalid-user-principal-name' }),
    );
  });
});

describe('zod issues as field errors (validation.ts)', () => {
  const schema = z.strictObject({
    flag: z.boolean(),
    n: z.number().optional(),
    ref: z.union([z.string(), z.strictObject({ sku: z.string() })]),
    rule: z.union([z.strictObject({ source: z.string() }), z.strictObject({ expression: z.string() })]),
  });
  const errors = (input: unknown) => fieldErrors(schema.safeParse(input).error!);

  it('a wrong type names both types; only an absent field "is required"', () => {
    expect(errors({ flag: 'yes', n: null, ref: 'x', rule: { source: 'a' } })).toEqual([
      { field: 'flag', message: 'expected boolean, received string' },
      { field: 'n', message: 'expected number, received null' },
    ]);
    expect(errors({ ref: 'x', rule: { source: 'a' } })).toEqual([{ field: 'flag', message: 'is required' }]);
  });

  it('a union says what it expected, or the errors of the form the value is closest to', () => {
    expect(errors({ flag: true, ref: 5, rule: { source: 7 } })).toEqual([
      { field: 'ref', message: 'expected string or object, received number' },
      { field: 'rule.source', message: 'expected string, received number' },
    ]);
    expect(errors({ flag: true, ref: { sku: 1 }, rule: {} })).toEqual([
      { field: 'ref.sku', message: 'expected string, received number' },
      { field: 'rule', message: 'matches none of its forms (source: is required | expression: is required)' },
    ]);
  });
});
