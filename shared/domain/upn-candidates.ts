// Unique UPNs on collision (pure): when the mapped userPrincipalName belongs to an account this connection may not
// adopt, the connection's `upnCandidates` templates give the next names to try, in order, and mailNickname and mail
// follow the chosen one. A soft-deleted account's UPN counts as taken too: restoring that account needs it free
// (directory-deleteditems-restore fails on a conflict), although Graph itself would let a new account take it.
import { upnProblem } from './create-requirements.js';
import { mailNicknameSafe, upnSafe } from './mapping/expression.js';
import type { GeneratedValues } from './user-state.js';

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_.:-]{0,127})\}/g;

/**
 * The candidate UPNs the templates give for these attributes, in order and without repeats: a template with `{n}`
 * gives n = 2 … limit, one without gives one. A template whose placeholder has no value is passed over.
 */
export function* upnCandidates(
  templates: readonly string[],
  attributes: Record<string, unknown>,
  domain: string,
  limit: number,
): Generator<string> {
  const seen = new Set<string>();
  for (const template of templates) {
    const numbers = template.includes('{n}') ? Array.from({ length: limit - 1 }, (_, i) => String(i + 2)) : [''];
    for (const n of numbers) {
      let missing = false;
      const upn = template.replace(PLACEHOLDER, (_, name: string) => {
        if (name === 'domain') return domain.toLowerCase();
        if (name === 'n') return n;
        const value = attributes[name];
        // Lower case too: a generated name should look like one (Entra compares UPNs without case anyway).
        const safe = typeof value === 'string' || typeof value === 'number' ? upnSafe(String(value)).toLowerCase() : '';
        if (safe === '') missing = true;
        return safe;
      });
      if (missing) break;
      if (upnProblem(upn) !== undefined || seen.has(upn)) continue;
      seen.add(upn);
      yield upn;
    }
  }
}

/** Whether `upn` is held by a soft-deleted account (Entra stores a deleted user's UPN prefixed with its object id). */
export function heldByDeleted(upn: string, deletedUpns: readonly string[]): boolean {
  const wanted = upn.toLowerCase();
  return deletedUpns.some((d) => {
    const name = d.toLowerCase();
    return (
      name === wanted || (name.length === wanted.length + 32 && name.endsWith(wanted) && /^[0-9a-f]{32}/.test(name))
    );
  });
}

/**
 * The values that follow a generated UPN: mailNickname becomes its local part, and mail, when the mapping made it
 * the mapped UPN, becomes the new UPN (any other mail is left as mapped).
 */
export function followUpn(values: Record<string, unknown>, upn: string): Record<string, unknown> {
  const local = mailNicknameSafe(upn.slice(0, upn.lastIndexOf('@')));
  const mappedUpn = typeof values.userPrincipalName === 'string' ? values.userPrincipalName.toLowerCase() : undefined;
  const mailFollows = typeof values.mail === 'string' && values.mail.toLowerCase() === mappedUpn;
  return { ...values, userPrincipalName: upn, mailNickname: local, ...(mailFollows ? { mail: upn } : {}) };
}

/** The values with a user's generated ones in place of the mapped ones, while the mapping still gives `from`. */
export function withGenerated(
  values: Record<string, unknown>,
  generated: GeneratedValues | undefined,
): Record<string, unknown> {
  if (!generated || typeof values.userPrincipalName !== 'string') return values;
  if (values.userPrincipalName.toLowerCase() !== generated.from.toLowerCase()) return values;
  return {
    ...values,
    userPrincipalName: generated.userPrincipalName,
    ...('mailNickname' in values ? { mailNickname: generated.mailNickname } : {}),
    ...(generated.mail && 'mail' in values ? { mail: generated.mail } : {}),
  };
}

/** What to remember after creating with a generated UPN (see GeneratedValues). */
export function generatedValues(mapped: Record<string, unknown>, used: Record<string, unknown>): GeneratedValues {
  return {
    from: String(mapped.userPrincipalName),
    userPrincipalName: String(used.userPrincipalName),
    mailNickname: String(used.mailNickname),
    ...(typeof used.mail === 'string' && used.mail !== mapped.mail ? { mail: used.mail } : {}),
  };
}
