// zod results → ValidationError naming each field, with messages an admin can act on.
import type { z } from 'zod';
import { type FieldError, ValidationError } from './errors.js';

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: path ? `${path}.${key}` : key, message: 'is not a known field' }));
    }
    if (issue.code === 'invalid_type') {
      // zod 4 leaves the input out of issues (no reportInput); its message says what it received.
      const missing = / received undefined$/.test(issue.message);
      return [
        { field: path || '(body)', message: missing ? 'is required' : issue.message.replace(/^Invalid input: /, '') },
      ];
    }
    return [{ field: path || '(body)', message: issue.message }];
  });
}

/** Parses `input` with `schema` or throws a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, message?: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldErrors(result.error), message);
  return result.data;
}
