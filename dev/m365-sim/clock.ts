// Simulated time. Everything that expires (codes, tokens, secrets, delta links, soft-deleted items,
// throttling windows) reads this clock, so tests jump forward with /_sim/clock/advance instead of waiting.
// Time only moves forward, except that /_sim/reset returns it to real time.

export interface SimClock {
  /** Milliseconds since the epoch, simulated. */
  now(): number;
  /** Moves simulated time forward (never backwards: expiry is monotonic). */
  advance(ms: number): void;
  /** Back to real time (a reset world starts "now"; tokens cached by clients stay valid). */
  reset(): void;
}

export function createClock(realNow: () => number = Date.now): SimClock {
  let offsetMs = 0;
  return {
    now: () => realNow() + offsetMs,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('clock can only advance by a non-negative number of ms');
      offsetMs += ms;
    },
    reset() {
      offsetMs = 0;
    },
  };
}

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
