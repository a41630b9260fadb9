// Health of the dependencies the app cannot work without. Each probe gets its own deadline so one hung
// dependency cannot hold the whole answer.

export interface DependencyProbe {
  name: string;
  check(signal: AbortSignal): Promise<void>;
}

export interface DependencyStatus {
  name: string;
  ok: boolean;
  durationMs: number;
  error?: string;
}

export interface HealthReport {
  healthy: boolean;
  checks: DependencyStatus[];
}

export async function checkHealth(probes: readonly DependencyProbe[], timeoutMs = 3000): Promise<HealthReport> {
  const checks = await Promise.all(probes.map((p) => runProbe(p, timeoutMs)));
  return { healthy: checks.every((c) => c.ok), checks };
}

async function runProbe(probe: DependencyProbe, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await Promise.race([
      probe.check(signal),
      new Promise<never>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeoutMs} ms`)), { once: true }),
      ),
    ]);
    return { name: probe.name, ok: true, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { name: probe.name, ok: false, durationMs: Math.round(performance.now() - started), error: describe(error) };
  }
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]!.slice(0, 200) : String(error);
  return typeof e?.code === 'string' && !message.includes(e.code) ? `${e.code}: ${message}` : message;
}
