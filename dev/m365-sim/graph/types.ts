// The shape every Graph handler shares, whether the call came over HTTPS or inside a $batch.
import type { SimContext } from '../context.js';
import type { AccessTokenClaims } from '../identity/signing.js';
import type { TenantState } from '../state.js';

export interface GraphCall {
  ctx: SimContext;
  tenant: TenantState;
  auth: AccessTokenClaims;
  method: string;
  /** Path after the version segment, e.g. `/users/8f…` (percent-decoded per segment). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  now: number;
  requestId: string;
}

export interface GraphResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface GraphRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Matched against GraphCall.path; capture groups become params. */
  pattern: RegExp;
  /** Any one of these (application `roles` or delegated `scp`) is enough. */
  permissions: readonly string[];
  /** Base resource-unit cost (throttling-limits); defaults to 1. */
  baseCost?: number;
  handle(call: GraphCall, params: string[]): GraphResult | Promise<GraphResult>;
}
