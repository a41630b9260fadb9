// Identity and access throttling as documented in "Microsoft Graph service-specific throttling limits"
// (learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits): a resource-unit token
// bucket per app + tenant sized by tenant (S 3,500 / M 5,000 / L 8,000 per 10 s), 150,000 RU per app per
// 20 s, and write quotas (3,000 per app + tenant per 150 s, 35,000 per app per 5 min, 18,000 per tenant
// per 5 min). Older revisions of that page said 70,000 per app per 5 min; the current include says 35,000.
// Usage keeps counting while throttled, so retrying before Retry-After makes things worse.
import { RU_BUDGET, type SizeClass } from './state.js';

export interface ThrottleRequest {
  appId: string;
  tenantId: string;
  sizeClass: SizeClass;
  resourceUnits: number;
  isWrite: boolean;
}

export type ThrottleOutcome =
  | { throttled: false; headers: Record<string, string> }
  | { throttled: true; headers: Record<string, string>; retryAfterSeconds: number; scope: string; information: string };

interface LimitSpec {
  key: string;
  capacity: number;
  windowMs: number;
  amount: number;
  scope: string;
  information: 'ResourceUnitLimitExceeded' | 'WriteLimitExceeded';
}

interface Usage {
  used: number;
  at: number;
}

const SECOND = 1000;

export class ThrottleModel {
  private usage = new Map<string, Usage>();

  /** `timeScale` > 1 shrinks every window (and so Retry-After) by that factor; simulated time drives decay. */
  constructor(private readonly timeScale: () => number) {}

  reset(): void {
    this.usage.clear();
  }

  charge(req: ThrottleRequest, now: number): ThrottleOutcome {
    const limits = this.limitsFor(req);
    let worst: { spec: LimitSpec; used: number } | undefined;
    let maxRatio = 0;
    for (const spec of limits) {
      const u = this.decayed(spec, now);
      // Requests count even when they end up throttled; capped so a storm cannot lock the app out forever.
      u.used = Math.min(u.used + spec.amount, spec.capacity * 2);
      const ratio = u.used / spec.capacity;
      maxRatio = Math.max(maxRatio, ratio);
      if (u.used > spec.capacity && (!worst || ratio > worst.used / worst.spec.capacity))
        worst = { spec, used: u.used };
    }
    const headers: Record<string, string> = { 'x-ms-resource-unit': String(req.resourceUnits) };
    if (maxRatio > 0.8) headers['x-ms-throttle-limit-percentage'] = Math.min(maxRatio, 1.8).toFixed(1);
    if (!worst) return { throttled: false, headers };
    // Wait until the bucket has drained enough to admit a request of this size again.
    const rate = worst.spec.capacity / worst.spec.windowMs;
    const waitMs = (worst.used - worst.spec.capacity + worst.spec.amount) / rate;
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / SECOND));
    return {
      throttled: true,
      headers,
      retryAfterSeconds,
      scope: worst.spec.scope,
      information: worst.spec.information,
    };
  }

  private limitsFor(req: ThrottleRequest): LimitSpec[] {
    const scale = this.timeScale();
    const w = (ms: number) => ms / scale;
    const { appId, tenantId } = req;
    const limits: LimitSpec[] = [
      {
        key: `ru|${appId}|${tenantId}`,
        capacity: RU_BUDGET[req.sizeClass],
        windowMs: w(10 * SECOND),
        amount: req.resourceUnits,
        scope: `Tenant_Application/ReadWrite/${appId}/${tenantId}`,
        information: 'ResourceUnitLimitExceeded',
      },
      {
        key: `ru|${appId}`,
        capacity: 150_000,
        windowMs: w(20 * SECOND),
        amount: req.resourceUnits,
        scope: `Application/ReadWrite/${appId}/${tenantId}`,
        information: 'ResourceUnitLimitExceeded',
      },
    ];
    if (req.isWrite) {
      limits.push(
        {
          key: `w|${appId}|${tenantId}`,
          capacity: 3000,
          windowMs: w(150 * SECOND),
          amount: 1,
          scope: `Tenant_Application/Write/${appId}/${tenantId}`,
          information: 'WriteLimitExceeded',
        },
        {
          key: `w|${appId}`,
          capacity: 35_000,
          windowMs: w(300 * SECOND),
          amount: 1,
          scope: `Application/Write/${appId}/${tenantId}`,
          information: 'WriteLimitExceeded',
        },
        {
          key: `w||${tenantId}`,
          capacity: 18_000,
          windowMs: w(300 * SECOND),
          amount: 1,
          scope: `Tenant/Write/${appId}/${tenantId}`,
          information: 'WriteLimitExceeded',
        },
      );
    }
    return limits;
  }

  private decayed(spec: LimitSpec, now: number): Usage {
    let u = this.usage.get(spec.key);
    if (!u) this.usage.set(spec.key, (u = { used: 0, at: now }));
    const drained = ((now - u.at) * spec.capacity) / spec.windowMs;
    u.used = Math.max(0, u.used - drained);
    u.at = now;
    return u;
  }
}

/**
 * Resource-unit cost of a request (same page, "base request costs"): GET users 2, GET groups/{id}/members 3,
 * GET subscribedSkus 3, GET applications 2, other GETs 1, writes 1 (plus one write); $select −1,
 * $expand +1, $top < 20 −1, never below 1.
 */
export function resourceUnitCost(baseCost: number, query: URLSearchParams): number {
  let cost = baseCost;
  if (query.has('$select')) cost -= 1;
  if (query.has('$expand')) cost += 1;
  const top = Number(query.get('$top'));
  if (query.has('$top') && Number.isFinite(top) && top < 20) cost -= 1;
  return Math.max(1, cost);
}
