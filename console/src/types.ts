// The API's answers as the console reads them (the OpenAPI document at /api/openapi.json is the reference).
export interface TestCheck {
  name: string;
  ok: boolean;
  detail: string;
  warning?: boolean;
}

export interface Connection {
  id: string;
  name: string;
  description?: string;
  tenantId: string;
  domain: string;
  clientId: string;
  authMode: 'client_credentials' | 'authorization_code';
  cloud: string;
  status: string;
  statusReason?: string;
  clientSecret: { set: true; updatedAt: string };
  authorization: { status: string; at?: string; error?: string; description?: string };
  adminConsent: { at: string } | null;
  lastAuthorizationError: { at: string; error: string; description: string } | null;
  lastTest: { ok: boolean; testedAt: string; checks: TestCheck[] } | null;
  quarantine: { since: string; reason: string } | null;
  stagedOperations: { count: number; runId: string; since: string } | null;
  deletion: { requestedAt: string; total: number; done?: number; failed?: number; pending?: number } | null;
  overrides: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
}

export interface TestResult {
  ok: boolean;
  status: string;
  checks: TestCheck[];
}

export interface UserView {
  externalId: string;
  status: string;
  statusReason?: string;
  desired: {
    profile?: { version: number; attributes: Record<string, unknown>; licenses?: unknown[] };
    lifecycle?: { version: number; state: string; explicit: boolean };
  } | null;
  appliedVersion: number;
  inSync: boolean;
  blockedBy: { setting: string; properties: string[] }[] | null;
  link: { objectId: string; userPrincipalName: string | null } | null;
  ownedLicenses: string[];
  lastError: { code: string; kind: string; message: string; at: string } | null;
  updatedAt: string;
}

export interface UserList {
  value: UserView[];
  continuation: string | null;
  counts: Record<string, number>;
}

export interface LogRecord {
  time: string;
  operationId: string;
  externalId: string;
  version?: number;
  objectType?: string;
  action?: string;
  result?: string;
  reason?: string;
  changedProperties?: string[];
  durationMs?: number;
  error?: { code: string; message: string };
  graphRequestIds?: string[];
  [key: string]: unknown;
}

export interface TraceStep {
  step?: string;
  name?: string;
  outcome?: string;
  detail?: string;
  [key: string]: unknown;
}

export interface Run {
  runId: string;
  trigger: string;
  dryRun: boolean;
  status: string;
  reason?: string;
  requestedAt: string;
  startedAt?: string;
  endedAt?: string;
  examined: { microsoft365: number; directory: number };
  drift: Record<string, number>;
  enqueued: number;
  staged: number;
  unmatched: number;
  failedUsers: number;
  errors: string[];
  items: number;
  graphRequests: number;
}

export interface RunItem {
  objectType: string;
  kind: string;
  externalId?: string;
  userPrincipalName?: string;
  detail: string;
  disposition: string;
  operation?: string;
}
