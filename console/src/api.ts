// The console's only door to the API: same origin, JSON in and out, problem+json errors as ApiError. Every
// state-changing call carries the CSRF header the API requires of cookie sessions.
import { authHeaders, signOut } from './auth';

export const CSRF_HEADER = { 'x-requested-with': 'm365-provisioner-console' };

export interface Problem {
  status: number;
  code?: string;
  title?: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
  }
  get status() {
    return this.problem.status;
  }
}

export interface ApiOptions {
  /** JSON body (sent as application/json, or `contentType`). */
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = unknown>(method: string, path: string, options: ApiOptions = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders(), ...options.headers };
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, CSRF_HEADER);
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`/api/${path.replace(/^\//, '')}`, {
    method,
    headers,
    credentials: 'same-origin',
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let body: unknown = undefined;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) {
    if (response.status === 401) signOut();
    const problem =
      body && typeof body === 'object' ? (body as Problem) : { status: response.status, detail: String(body ?? '') };
    throw new ApiError({ ...problem, status: response.status });
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

export const get = async <T>(path: string) => (await call<T>('GET', path)).body;
export const post = async <T>(path: string, body?: unknown) => (await call<T>('POST', path, { body })).body;
export const patch = async <T>(path: string, body: unknown) =>
  (await call<T>('PATCH', path, { body, contentType: 'application/merge-patch+json' })).body;

/** Query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** What the signed-in principal may do (GET /api/me; before that route exists, the function key may do everything). */
export interface Me {
  actor?: unknown;
  roles: string[];
  canWrite: boolean;
}

export async function whoAmI(): Promise<Me> {
  try {
    return await get<Me>('me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { roles: ['Provisioning.Admin'], canWrite: true };
    throw error;
  }
}
