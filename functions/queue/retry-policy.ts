// The one place that decides when a provisioning operation is tried again (docs/architecture.md, invariant 3).
// Functions never sleep: a later attempt is a new queue message made visible after the delay.
import { type AppError, type ErrorCode, isAppError } from '../../shared/domain/errors.js';
import {
  MAX_THROTTLED_ATTEMPTS,
  MAX_TRANSIENT_ATTEMPTS,
  throttledDelayMs,
  transientDelayMs,
} from '../../shared/domain/retry-delays.js';

export type RetryDecision =
  | { action: 'defer'; delayMs: number; reason: string }
  | { action: 'fail'; failure: { code: ErrorCode; kind: AppError['kind']; message: string } }
  /** Not an error we understand: let the host retry it and, finally, poison it. */
  | { action: 'rethrow' };

/** `attempt` is the attempt that just failed (1 for the first). `random` is injectable for tests. */
export function decideRetry(error: unknown, attempt: number, random: () => number = Math.random): RetryDecision {
  if (!isAppError(error)) return { action: 'rethrow' };
  const jitter = (ms: number) => Math.round(ms * (1 + 0.2 * random()));
  if (error.kind === 'throttled') {
    if (attempt >= MAX_THROTTLED_ATTEMPTS) return fail(error, `still throttled after ${attempt} attempts`);
    // Retry-After exactly, plus jitter so deferred messages do not return in one burst.
    return {
      action: 'defer',
      delayMs: jitter(throttledDelayMs(error)),
      reason: `throttled (${error.code})`,
    };
  }
  if (error.code === 'user-busy') {
    // Another operation holds this user (at most a lease's length): come back soon, a little later each time.
    if (attempt >= MAX_THROTTLED_ATTEMPTS) return fail(error, `user still busy after ${attempt} attempts`);
    return {
      action: 'defer',
      delayMs: jitter(Math.min(30_000, (error.retryAfterMs ?? 1000) * attempt)),
      reason: 'user busy with another operation',
    };
  }
  if (error.kind === 'transient') {
    if (attempt >= MAX_TRANSIENT_ATTEMPTS) return fail(error, `gave up after ${attempt} attempts`);
    return {
      action: 'defer',
      delayMs: jitter(transientDelayMs(attempt)),
      reason: `transient failure (${error.code})`,
    };
  }
  // Bad input (a value storage refuses, say) fails the same way every time: record it now, don't retry it.
  if (error.kind === 'invalid') return fail(error, 'it cannot succeed on a retry');
  return { action: 'rethrow' };
}

const fail = (error: AppError, why: string): RetryDecision => ({
  action: 'fail',
  failure: { code: error.code, kind: error.kind, message: `${error.message} (${why})` },
});
