// How long to wait before trying again, and how often: the numbers of the one retry policy, shared by the queue
// function (functions/queue/retry-policy.ts: a deferred operation) and reconciliation (reconcile/pause.ts: a paused
// run). Nothing sleeps on them: the caller makes a new queue message visible after the delay.
import type { AppError } from './errors.js';

export const MAX_TRANSIENT_ATTEMPTS = 6;
export const MAX_THROTTLED_ATTEMPTS = 50;
const TRANSIENT_BASE_MS = 5_000;
const TRANSIENT_MAX_MS = 5 * 60_000;
/** When Graph throttles without saying how long to wait. */
const THROTTLED_DEFAULT_MS = 30_000;

/** Graph's Retry-After, else a default. */
export const throttledDelayMs = (error: AppError) => error.retryAfterMs ?? THROTTLED_DEFAULT_MS;
/** Exponential back-off after the `attempt`-th transient failure (1 for the first): 5 s, 10 s, … at most 5 min. */
export const transientDelayMs = (attempt: number) => Math.min(TRANSIENT_MAX_MS, TRANSIENT_BASE_MS * 2 ** (attempt - 1));
