import { describe, expect, it } from 'vitest';
import { decideRetry } from '../../../functions/queue/retry-policy.js';
import { AppError } from '../../../shared/domain/errors.js';
import { MAX_THROTTLED_ATTEMPTS, MAX_TRANSIENT_ATTEMPTS } from '../../../shared/domain/retry-delays.js';

const noJitter = () => 0;

describe('queue retry policy', () => {
  it('defers a throttled operation by exactly Retry-After (plus jitter), never sleeping', () => {
    const throttled = new AppError('throttled', 'graph-throttled', '429', {}, 7000);
    expect(decideRetry(throttled, 1, noJitter)).toEqual({
      action: 'defer',
      delayMs: 7000,
      reason: 'throttled (graph-throttled)',
    });
    expect(decideRetry(throttled, 1, () => 1)).toMatchObject({ delayMs: 8400 });
    expect(decideRetry(new AppError('throttled', 'graph-throttled', 'x'), 1, noJitter)).toMatchObject({
      delayMs: 30_000,
    });
  });

  it.each([
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [5, 80_000],
  ])('backs off transient failures exponentially: attempt %i → %i ms', (attempt, delayMs) => {
    expect(decideRetry(new AppError('transient', 'graph-unavailable', 'reset'), attempt, noJitter)).toMatchObject({
      action: 'defer',
      delayMs,
    });
  });

  it('gives up (recorded as failed, retryable by an admin) after the last attempt', () => {
    expect(
      decideRetry(new AppError('transient', 'storage-unavailable', 'down'), MAX_TRANSIENT_ATTEMPTS, noJitter),
    ).toMatchObject({
      action: 'fail',
      failure: { code: 'storage-unavailable', message: `down (gave up after ${MAX_TRANSIENT_ATTEMPTS} attempts)` },
    });
    expect(
      decideRetry(new AppError('throttled', 'storage-busy', 'slow'), MAX_THROTTLED_ATTEMPTS, noJitter),
    ).toMatchObject({ action: 'fail' });
  });

  it('brings an operation back soon, a little later each time, while its user is busy with another one', () => {
    const busy = new AppError('transient', 'user-busy', 'busy', {}, 1000);
    expect(decideRetry(busy, 1, noJitter)).toMatchObject({ action: 'defer', delayMs: 1000 });
    expect(decideRetry(busy, 3, noJitter)).toMatchObject({ action: 'defer', delayMs: 3000 });
    expect(decideRetry(busy, MAX_TRANSIENT_ATTEMPTS + 1, noJitter)).toMatchObject({ action: 'defer' });
  });

  it('records invalid input at once: it would fail the same way on every retry', () => {
    expect(decideRetry(new AppError('invalid', 'invalid-key', 'not well-formed'), 1)).toEqual({
      action: 'fail',
      failure: { code: 'invalid-key', kind: 'invalid', message: 'not well-formed (it cannot succeed on a retry)' },
    });
  });

  it('leaves anything else to the host (which retries, then poisons, and the poison is recorded)', () => {
    expect(decideRetry(new TypeError('bug'), 1)).toEqual({ action: 'rethrow' });
    expect(decideRetry(new AppError('conflict', 'concurrent-update', 'y'), 1)).toEqual({ action: 'rethrow' });
  });
});
