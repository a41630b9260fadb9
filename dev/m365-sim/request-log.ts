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

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private nextSeq = 1;

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ seq: this.nextSeq++, ...entry });
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
  }
}
