// zod results → ValidationError naming each field, with messages an admin can act on.
import type { z } from 'zod';
import { type FieldError, ValidationError } from './errors.js';

type Issue = z.core.$ZodIssue;

export function fieldErrors(error: z.ZodError): FieldError[] {
  return issueErrors(error.issues, []);
}

function issueErrors(issues: readonly Issue[], prefix: PropertyKey[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    const at = [...prefix, ...issue.path];
    const field = at.map(String).join('.') || '(body)';
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: field === '(body)' ? key : `${field}.${key}`,
        message: 'is not a known field',
      }));
    }
    if (issue.code === 'invalid_type') return [{ field, message: typeMessage(issue) }];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) return unionErrors(issue.errors, at, field);
    return [{ field, message: issue.message }];
  });
}

/**
 * zod 4 leaves the input out of issues (no reportInput); its message says what it received. Only an absent value
 * is "required"; a value of the wrong type is named with the type wanted and the type given.
 */
function typeMessage(issue: Issue): string {
  const received = receivedType(issue);
  if (received === 'undefined') return 'is required';
  return issue.message.replace(/^Invalid input: /, '');
}

const receivedType = (issue: Issue): string | undefined => / received (\w+)$/.exec(issue.message)?.[1];
const isWrongKind = (branch: readonly Issue[]) =>
  branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0].path.length === 0;

/**
 * A value that matches none of a union's forms. zod only says "Invalid input"; say instead what was expected:
 * - the value is of none of the allowed kinds → `expected string or object, received number`;
 * - it is of one form's kind and that form's fields are wrong → those fields' errors (`….source: expected string…`);
 * - several forms come equally close → one error naming each form's first problem.
 */
function unionErrors(branches: readonly (readonly Issue[])[], at: PropertyKey[], field: string): FieldError[] {
  const close = branches.filter((b) => !isWrongKind(b)).map((b) => issueErrors(b, at));
  if (close.length === 0) {
    const expected = [...new Set(branches.map((b) => (b[0] as { expected?: string }).expected ?? '?'))];
    const received = receivedType(branches[0]![0]!);
    if (received === 'undefined') return [{ field, message: 'is required' }];
    const list = expected.length > 1 ? `${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}` : expected[0];
    return [{ field, message: `expected ${list}, received ${received}` }];
  }
  const fewest = Math.min(...close.map((errors) => errors.length));
  const best = close.filter((errors) => errors.length === fewest);
  if (best.length === 1) return best[0]!;
  const forms = best.map((errors) => {
    const first = errors[0]!;
    const name = first.field.startsWith(`${field}.`) ? first.field.slice(field.length + 1) : '';
    return `${name ? `${name}: ` : ''}${first.message}`;
  });
  return [{ field, message: `matches none of its forms (${forms.join(' | ')})` }];
}

/** Parses `input` with `schema` or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, message?: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldErrors(result.error), message);
  return result.data;
}
