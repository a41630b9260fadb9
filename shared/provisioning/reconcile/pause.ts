// When a run pauses, and for how long: reconciliation's side of the one retry policy (its numbers:
// domain/retry-delays.ts, shared with functions/queue/retry-policy.ts). A run never sleeps waiting for Graph (the throttle governor's
// own short wait, at most 2 s, is the only wait inside a run): a Graph read answered "throttled" pauses the run for
// Retry-After, one that failed transiently with an HTTP status for an exponential back-off; run.ts then saves the
// run's progress, holds its lease and re-enqueues its request, visible after the delay. Reads that keep failing
// give up (the run fails; the next one starts over), as a network failure without any answer does at once.
import { type AppError, isAppError } from '../../domain/errors.js';
import {
  MAX_THROTTLED_ATTEMPTS,
  MAX_TRANSIENT_ATTEMPTS,
  throttledDelayMs,
  transientDelayMs,
} from '../../domain/retry-delays.js';

/** Thrown out of a round to stop the run here; it continues from its saved progress after `delayMs`. */
export class RunPaused extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
    readonly error: AppError,
  ) {
    super(message);
    this.name = 'RunPaused';
  }
}

/** The pause `error` calls for at this attempt (1 for the first failure of a read), or undefined: give up. */
export function pauseFor(error: unknown, attempt: number): RunPaused | undefined {
  if (!isAppError(error)) return undefined;
  if (error.kind === 'throttled' && attempt < MAX_THROTTLED_ATTEMPTS) {
    return new RunPaused(
      throttledDelayMs(error),
      `throttled by Microsoft Graph (${error.code}, attempt ${attempt})`,
      error,
    );
  }
  // A tenant that cannot be reached at all (no HTTP status) fails the run at once: the next run tries again.
  if (error.kind === 'transient' && typeof error.details.status === 'number' && attempt < MAX_TRANSIENT_ATTEMPTS) {
    return new RunPaused(
      transientDelayMs(attempt),
      `Microsoft Graph failed transiently (${error.code}, HTTP ${String(error.details.status)}, attempt ${attempt})`,
      error,
    );
  }
  return undefined;
}

/**
 * A Graph read that pauses the run instead of waiting: a failure that calls for a pause counts in
 * `tries.attempts` (kept across the pause) and throws RunPaused; past the limits the failure itself is thrown.
 * The caller resets `tries.attempts` once the read it counts for has succeeded.
 */
export async function pausable<T>(read: () => Promise<T>, tries: { attempts: number }): Promise<T> {
  try {
    return await read();
  } catch (error) {
    const pause = pauseFor(error, tries.attempts + 1);
    if (!pause) throw error;
    tries.attempts++;
    throw pause;
  }
}
