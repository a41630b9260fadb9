import { RestError } from '@azure/core-rest-pipeline';
import { describe, expect, it } from 'vitest';
import { classifyStorageError } from '../../../shared/storage/table-support.js';

describe('storage error classifier', () => {
  it.each([
    [400, 'invalid'],
    // A body too large (a queue message over 64 KiB, say): the same request fails the same way every time.
    [413, 'invalid'],
    [404, 'not-found'],
    [409, 'conflict'],
    [412, 'conflict'],
    [429, 'throttled'],
    [503, 'throttled'],
    [500, 'transient'],
    [undefined, 'transient'],
  ] as const)('HTTP %s → %s', (statusCode, kind) => {
    const error = new RestError('boom', statusCode === undefined ? {} : { statusCode });
    expect(classifyStorageError(error, 'read connection').kind).toBe(kind);
  });
});
