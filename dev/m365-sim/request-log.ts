// What the simulated tenant received: tests assert on it ("the connector made exactly one POST /users").
// Bounded so a long `npm run tenant` session cannot grow without limit. Secrets are never recorded.

export interface LoggedRequest {
  seq: number;
  /** Simulated time, ISO. */
  at: string;
  surface: 'graph' | 'identity' | 'batch-item';
  method: string;
  /** Path and query as received (graph: starting at /v1.0). Token requests log grant_type, never secrets or bodies. */
  path: string;
  tenantId?: string;
  appId?: string;
  status: number;
  requestId?: string;
  /** For batch items: the request-id of the enclosing $batch. */
  batchRequestId?: string;
  /** Identity token requests: the grant type. */
  grantType?: string;
  /** Graph requests: resource units charged. */
  resourceUnits?: number;
  /** What a fault rule did to this request, if anything. */
  fault?: string;
  /** Graph requests: the JSON body as received, passwords redacted. */
  body?: unknown;
}

const MAX_ENTRIES = 20_000;

/** Totals since the last clear, beyond the bounded log (benchmarks read these: `GET /_sim/stats`). */
export interface RequestStats {
  graphRequests: number;
  graphWrites: number;
  throttled: number;
  faults: number;
  resourceUnits: number;
  identityRequests: number;
  firstAt?: string;
  lastAt?: string;
  /** Graph writes per simulated second (key: epoch second), for peak and sustained rates. */
  writesPerSecond: Record<string, number>;
}

const emptyStats = (): RequestStats => ({
  graphRequests: 0,
  graphWrites: 0,
  throttled: 0,
  faults: 0,
  resourceUnits: 0,
  identityRequests: 0,
  writesPerSecond: {},
});

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private nextSeq = 1;
  stats: RequestStats = emptyStats();

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ seq: this.nextSeq++, ...entry });
    const s = this.stats;
    if (entry.surface === 'identity') s.identityRequests++;
    else {
      s.graphRequests++;
      if (entry.method !== 'GET' && entry.path !== '/v1.0/$batch') {
        s.graphWrites++;
        const second = String(Math.floor(Date.parse(entry.at) / 1000));
        s.writesPerSecond[second] = (s.writesPerSecond[second] ?? 0) + 1;
      }
      if (entry.status === 429) s.throttled++;
      s.resourceUnits += entry.resourceUnits ?? 0;
    }
    if (entry.fault) s.faults++;
    s.firstAt ??= entry.at;
    s.lastAt = entry.at;
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  list(filter: { sinceSeq?: number; tenantId?: string; surface?: string } = {}): LoggedRequest[] {
    return this.entries.filter(
      (e) =>
        (filter.sinceSeq === undefined || e.seq > filter.sinceSeq) &&
        (filter.tenantId === undefined || e.tenantId === filter.tenantId.toLowerCase()) &&
        (filter.surface === undefined || e.surface === filter.surface),
    );
  }

  clear(): void {
    this.entries = [];
    this.stats = emptyStats();
  }
}
