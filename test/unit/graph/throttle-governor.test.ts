import { describe, expect, it } from 'vitest';
import { type GovernorLimits, resourceUnitCost, ThrottleGovernor } from '../../../shared/graph/throttle-governor.js';

const limits: GovernorLimits = {
  writesPerSecond: 20,
  resourceUnitsPerSecond: 350,
  utilisation: 1,
  burst: 2,
  maxWaitMs: 2000,
};

function governor() {
  let now = 1_000_000;
  const g = new ThrottleGovernor(limits, () => now);
  return { g, advance: (ms: number) => (now += ms) };
}

/** Reserves without waiting in real time: returns the wait the governor asked for (throws when it refuses). */
async function waitFor(g: ThrottleGovernor, kind: 'read' | 'write', ru = 1): Promise<number> {
  const before = g.stats.waitedMs;
  const original = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: () => void) => original(fn, 0)) as typeof setTimeout;
  try {
    await g.acquire(kind, ru);
  } finally {
    globalThis.setTimeout = original;
  }
  return g.stats.waitedMs - before;
}

describe('throttle governor (pacing under the documented limits)', () => {
  it('lets a burst through, then paces writes at 20/s (one every 50 ms)', async () => {
    const { g } = governor();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) waits.push(await waitFor(g, 'write'));
    expect(waits).toEqual([0, 0, 0, 50, 100, 150]);
  });

  it('paces by resource units too: a costly read waits for its units', async () => {
    const { g } = governor();
    expect(await waitFor(g, 'read', 350)).toBe(0);
    expect(await waitFor(g, 'read', 1)).toBeCloseTo(1000 - 2 * (1000 / 350), 0);
  });

  it('refuses (throttled, with the delay) instead of waiting longer than maxWaitMs, and reserves nothing then', async () => {
    const { g } = governor();
    for (let i = 0; i < 43; i++) await waitFor(g, 'write');
    await expect(g.acquire('write', 1)).rejects.toMatchObject({
      kind: 'throttled',
      code: 'graph-paced',
      retryAfterMs: expect.any(Number),
    });
    const refused = await g.acquire('write', 1).catch((e: { retryAfterMs: number }) => e.retryAfterMs);
    expect(refused).toBeGreaterThan(2000);
    expect(g.stats.deferred).toBe(2);
  });

  it('closes the gate for exactly Retry-After after a 429, then slows down and recovers when quiet', async () => {
    const { g, advance } = governor();
    g.observe(429, 3000, undefined);
    await expect(g.acquire('read', 1)).rejects.toMatchObject({ retryAfterMs: 3000 });
    expect(g.currentFactor()).toBeCloseTo(0.7);
    advance(3000);
    expect(await waitFor(g, 'read', 1)).toBe(0);
    advance(5000);
    expect(g.currentFactor()).toBe(1);
  });

  it('slows by the excess when x-ms-throttle-limit-percentage says a limit is passed, and holds at the limit', () => {
    const { g } = governor();
    g.observe(200, undefined, 0.98);
    expect(g.currentFactor()).toBe(1);
    g.observe(200, undefined, 1.25);
    expect(g.currentFactor()).toBeCloseTo(0.8);
  });
});

describe('resource-unit costs (throttling-limits: identity and access)', () => {
  it.each([
    ['GET', '/users', '', 2],
    ['GET', '/users', '$select=id', 1],
    ['GET', '/users', '$select=id&$top=5', 1],
    ['GET', '/users/abc', '$select=id', 1],
    ['GET', '/groups/g/members', '', 3],
    ['GET', '/subscribedSkus', '', 3],
    ['GET', '/users/abc', '$expand=manager', 2],
    ['POST', '/users', '', 1],
    ['PATCH', '/users/abc', '', 1],
  ])('%s %s?%s costs %i', (method, path, query, cost) => {
    expect(resourceUnitCost(method, path, new URLSearchParams(query))).toBe(cost);
  });
});
