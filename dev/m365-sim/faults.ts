// Fault injection: make chosen requests fail the way the real services sometimes do (429/503/500, a dropped
// connection, added latency), for the next N matching requests or at a rate. Scoped by surface, method,
// path pattern and tenant so a test can break exactly one call of a flow.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const faultRuleInputSchema = z
  .object({
    match: z
      .object({
        surface: z.enum(['graph', 'identity', 'any']).default('graph'),
        method: z.string().toUpperCase().optional(),
        /** Regular expression tested against the path (graph paths start with /v1.0/). */
        path: z.string().optional(),
        tenantId: z.string().toLowerCase().optional(),
      })
      .default({ surface: 'graph' }),
    fault: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('status'),
        status: z.number().int().min(400).max(599),
        retryAfterSeconds: z.number().int().min(0).optional(),
        /** Graph error code in the body; defaults per status. */
        code: z.string().optional(),
      }),
      z.object({ kind: z.literal('drop') }),
      z.object({ kind: z.literal('latency'), ms: z.number().int().min(0).max(60_000) }),
    ]),
    /** Fire on the next N matching requests, then retire. */
    count: z.number().int().min(1).optional(),
    /** Fire on this fraction of matching requests (0–1). */
    rate: z.number().min(0).max(1).optional(),
  })
  .refine((r) => r.count !== undefined || r.rate !== undefined, { message: 'give count (next N) or rate' });

export type FaultRuleInput = z.input<typeof faultRuleInputSchema>;
type ParsedRule = z.output<typeof faultRuleInputSchema>;
export type Fault = ParsedRule['fault'];

interface FaultRule extends ParsedRule {
  id: string;
  pathPattern?: RegExp;
  remaining?: number;
  fired: number;
}

export interface FaultTarget {
  surface: 'graph' | 'identity';
  method: string;
  path: string;
  tenantId?: string;
}

export class FaultInjector {
  private rules: FaultRule[] = [];

  add(input: unknown): { id: string } {
    const parsed = faultRuleInputSchema.parse(input);
    const rule: FaultRule = { ...parsed, id: randomUUID(), remaining: parsed.count, fired: 0 };
    if (parsed.match.path) rule.pathPattern = new RegExp(parsed.match.path);
    this.rules.push(rule);
    return { id: rule.id };
  }

  list() {
    return this.rules.map(({ pathPattern: _p, ...r }) => r);
  }

  clear(): void {
    this.rules = [];
  }

  /** Latency to add, and the failing fault (if any) to answer with instead of the real response. */
  pick(target: FaultTarget): { latencyMs: number; fault?: Fault } {
    let latencyMs = 0;
    for (const rule of this.rules) {
      if (!this.matches(rule, target)) continue;
      if (rule.rate !== undefined && Math.random() >= rule.rate) continue;
      rule.fired++;
      if (rule.remaining !== undefined && --rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
      if (rule.fault.kind === 'latency') latencyMs += rule.fault.ms;
      else return { latencyMs, fault: rule.fault };
    }
    return { latencyMs };
  }

  private matches(rule: FaultRule, t: FaultTarget): boolean {
    const m = rule.match;
    return (
      (m.surface === 'any' || m.surface === t.surface) &&
      (m.method === undefined || m.method === t.method) &&
      (rule.pathPattern === undefined || rule.pathPattern.test(t.path)) &&
      (m.tenantId === undefined || m.tenantId === t.tenantId)
    );
  }
}

/** Graph error codes Graph uses for these statuses (https://learn.microsoft.com/graph/errors). */
export const GRAPH_CODE_BY_STATUS: Record<number, string> = {
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};
