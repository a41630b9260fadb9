// Throttle governor: paces one app's Graph requests to one tenant so they stay just under Graph's identity
// limits (docs/graph-behaviour.md, "Throttling"):
//   writes: 3,000 per 150 s per app + tenant  → 20/s;
//   resource units: 3,500 / 5,000 / 8,000 per 10 s by tenant size (we assume the smallest until told).
// Each limit is a GCRA scheduler (a leaky bucket with a small burst). A caller reserves its cost; a short wait is
// taken in process, a longer one is refused with the delay so the queue function can defer the operation (a
// new message, visible later) instead of holding an invocation open.
// It adapts from what Graph says: a 429 closes the gate for exactly Retry-After and slows the pace;
// x-ms-throttle-limit-percentage above 1 (over a limit) slows it; quiet periods let it recover.
//
// Scaled out to N instances, each instance paces at the full rate, so together they can ask for up to N× the
// quota. They converge because every instance sees the same tenant-wide signals: above the limit Graph answers
// 429 with Retry-After and x-ms-throttle-limit-percentage > 1 to all of them, each multiplies its pace down,
// and recovery is additive (AIMD, as TCP): the shares settle near 1/N of the quota each, with a few 429s while
// they do. Those 429s cost nothing but a deferred message. Shared state (a pace in Table Storage) would avoid
// even those, at a storage round trip per Graph call; not worth it at these rates.
import { AppError } from '../domain/errors.js';

export interface GovernorLimits {
  writesPerSecond: number;
  resourceUnitsPerSecond: number;
  /** Fraction of each limit to aim at (head room for clock skew and other apps' reads). */
  utilisation: number;
  /** Requests that may go at once before pacing applies, per limit. */
  burst: number;
  /** Longest wait taken in process; longer ones are refused with the delay. */
  maxWaitMs: number;
}

export const DOCUMENTED_LIMITS: GovernorLimits = {
  writesPerSecond: 3000 / 150,
  resourceUnitsPerSecond: 3500 / 10,
  utilisation: 0.98,
  burst: 10,
  maxWaitMs: 2000,
};

/** Speeds every rate up (and shrinks every window) by `timeScale`, to match a simulated tenant run with --time-scale. */
export function scaledLimits(timeScale: number, base: GovernorLimits = DOCUMENTED_LIMITS): GovernorLimits {
  return {
    ...base,
    writesPerSecond: base.writesPerSecond * timeScale,
    resourceUnitsPerSecond: base.resourceUnitsPerSecond * timeScale,
  };
}

/** GCRA: `tat` is the theoretical arrival time of the next unit at the target rate. */
class Pace {
  private tat = 0;
  constructor(
    private readonly intervalMs: () => number,
    private readonly burst: number,
  ) {}

  /** Milliseconds to wait before `cost` units may go at `now` (0 = now). Reserves them unless `dryRun`. */
  reserve(cost: number, now: number, dryRun = false): number {
    const interval = this.intervalMs();
    const tat = Math.max(this.tat, now);
    const wait = Math.max(0, tat - this.burst * interval - now);
    if (!dryRun) this.tat = tat + cost * interval;
    return wait;
  }
}

export type RequestKind = 'read' | 'write';

export class ThrottleGovernor {
  private pausedUntil = 0;
  /** Multiplies the target rates: cut on pressure, recovered additively when quiet. */
  private factor = 1;
  private lastPressureAt = 0;
  private readonly writes: Pace;
  private readonly units: Pace;
  readonly stats = { waitedMs: 0, deferred: 0, throttled: 0, requests: 0 };

  constructor(
    private readonly limits: GovernorLimits = DOCUMENTED_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    const interval = (perSecond: number) => () => 1000 / (perSecond * this.limits.utilisation * this.currentFactor());
    this.writes = new Pace(interval(limits.writesPerSecond), limits.burst);
    this.units = new Pace(interval(limits.resourceUnitsPerSecond), limits.burst);
  }

  /**
   * Waits until a request of this kind and resource-unit cost may be sent, or throws a throttled AppError
   * with the delay when that is longer than maxWaitMs (nothing is reserved then).
   */
  async acquire(kind: RequestKind, resourceUnits: number): Promise<void> {
    const now = this.now();
    const gate = Math.max(0, this.pausedUntil - now);
    const probeWrite = kind === 'write' ? this.writes.reserve(1, now, true) : 0;
    const probeUnits = this.units.reserve(resourceUnits, now, true);
    const wait = Math.max(gate, probeWrite, probeUnits);
    if (wait > this.limits.maxWaitMs) {
      this.stats.deferred++;
      throw new AppError(
        'throttled',
        'graph-paced',
        `Paced to stay under Graph's limits for this app and tenant: try again in ${Math.ceil(wait / 1000)} s`,
        {},
        wait,
      );
    }
    if (kind === 'write') this.writes.reserve(1, now);
    this.units.reserve(resourceUnits, now);
    this.stats.requests++;
    if (wait > 0) {
      this.stats.waitedMs += wait;
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** What Graph said about this request: status, Retry-After (ms) and x-ms-throttle-limit-percentage. */
  observe(status: number, retryAfterMs: number | undefined, limitPercentage: number | undefined): void {
    const now = this.now();
    if (status === 429) {
      this.stats.throttled++;
      // Exactly Retry-After for everyone on this app + tenant; usage keeps counting while throttled.
      this.pausedUntil = Math.max(this.pausedUntil, now + (retryAfterMs ?? 1000));
      this.slowDown(0.7, now);
    } else if (limitPercentage !== undefined && limitPercentage > 1) {
      this.slowDown(1 / limitPercentage, now);
    } else if (limitPercentage !== undefined && limitPercentage >= 0.97) {
      // At the limit, by design: hold the pace, don't speed up.
      this.lastPressureAt = now;
    }
  }

  /** Writes per second this governor lets go now: the quota, times the utilisation aimed at, times the pace. */
  writesPerSecondNow(): number {
    return this.limits.writesPerSecond * this.limits.utilisation * this.currentFactor();
  }

  /** The current pace as a fraction of the target (for tests and benchmarks). */
  currentFactor(): number {
    // Additive recovery: +10 % of the target per quiet second since the last pressure.
    const quietSeconds = Math.max(0, (this.now() - this.lastPressureAt) / 1000 - 1);
    return Math.min(1, this.factor + 0.1 * quietSeconds);
  }

  private slowDown(multiplier: number, now: number): void {
    this.factor = Math.max(0.05, this.currentFactor() * multiplier);
    this.lastPressureAt = now;
  }
}

/** One governor per app + tenant in this process, shared by every connection using that pair. */
export class GovernorRegistry {
  private readonly governors = new Map<string, ThrottleGovernor>();
  constructor(private readonly limits: GovernorLimits = DOCUMENTED_LIMITS) {}

  for(clientId: string, tenantId: string): ThrottleGovernor {
    const key = `${clientId.toLowerCase()}/${tenantId.toLowerCase()}`;
    let governor = this.governors.get(key);
    if (!governor) this.governors.set(key, (governor = new ThrottleGovernor(this.limits)));
    return governor;
  }
}

/**
 * Resource-unit cost of a request as documented: GET list users 2, group members 3, subscribedSkus 3, other
 * GETs 1; writes 1; $select −1, $expand +1, $top < 20 −1; never below 1.
 */
export function resourceUnitCost(method: string, path: string, query: URLSearchParams): number {
  if (method !== 'GET') return 1;
  let cost = /\/users\/?$/.test(path) ? 2 : /\/members\/?$/.test(path) || /\/subscribedSkus\/?$/.test(path) ? 3 : 1;
  if (query.has('$select')) cost -= 1;
  if (query.has('$expand')) cost += 1;
  const top = Number(query.get('$top'));
  if (query.has('$top') && top < 20) cost -= 1;
  return Math.max(1, cost);
}
