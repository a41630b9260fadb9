import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { upnProblem } from '../../../shared/domain/create-requirements.js';
import {
  followUpn,
  generatedValues,
  heldByDeleted,
  upnCandidates,
  withGenerated,
} from '../../../shared/domain/upn-candidates.js';

const templates = ['{givenName}.{familyName}@{domain}', '{givenName}.{familyName}{n}@{domain}'];

describe('UPN candidates', () => {
  it('fills the templates in order, n from 2 to the limit, made safe and lower case', () => {
    const got = [...upnCandidates(templates, { givenName: 'José', familyName: "O'Brien Ñúñez" }, 'Contoso.com', 4)];
    expect(got).toEqual([
      "jose.o'briennunez@contoso.com",
      "jose.o'briennunez2@contoso.com",
      "jose.o'briennunez3@contoso.com",
      "jose.o'briennunez4@contoso.com",
    ]);
  });

  it('passes over a template whose attribute is missing or empties out, and repeats nothing', () => {
    expect([...upnCandidates(templates, { givenName: '李', familyName: 'Lei' }, 'contoso.com', 3)]).toEqual([]);
    expect([...upnCandidates(['{userName}@{domain}', '{userName}@{domain}'], { userName: 'a' }, 'x.com', 3)]).toEqual([
      'a@x.com',
    ]);
  });

  it('only ever gives UPNs Entra accepts', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (givenName, familyName) => {
        for (const upn of upnCandidates(templates, { givenName, familyName }, 'contoso.com', 3))
          expect(upnProblem(upn), upn).toBeUndefined();
      }),
      { seed: 1512, numRuns: 300 },
    );
  });

  it('counts a soft-deleted holder in both forms (as stored by Entra: prefixed with the object id without dashes)', () => {
    const deleted = ['0f1e2d3c4b5a69788796a5b4c3d2e1f0sam.soft2@contoso.com', 'old@contoso.com'];
    expect(heldByDeleted('SAM.soft2@contoso.com', deleted)).toBe(true);
    expect(heldByDeleted('old@contoso.com', deleted)).toBe(true);
    expect(heldByDeleted('am.soft2@contoso.com', deleted)).toBe(false);
    expect(heldByDeleted('sam.soft3@contoso.com', deleted)).toBe(false);
  });

  it('mailNickname follows the generated UPN, mail only when it was the mapped UPN; remembered values stand in while the mapping gives the same UPN', () => {
    const mapped = { userPrincipalName: 'admin@contoso.com', mailNickname: 'admin', mail: 'admin@contoso.com' };
    const used = followUpn(mapped, 'sam.soft3@contoso.com');
    expect(used).toEqual({
      userPrincipalName: 'sam.soft3@contoso.com',
      mailNickname: 'sam.soft3',
      mail: 'sam.soft3@contoso.com',
    });
    expect(followUpn({ ...mapped, mail: 'sam@elsewhere.com' }, 'sam.soft3@contoso.com').mail).toBe('sam@elsewhere.com');
    const generated = generatedValues(mapped, used);
    expect(withGenerated(mapped, generated)).toEqual(used);
    expect(withGenerated({ ...mapped, userPrincipalName: 'renamed@contoso.com' }, generated).userPrincipalName).toBe(
      'renamed@contoso.com',
    );
  });
});
