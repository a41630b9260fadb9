// Azure Functions HTTP route templates (ASP.NET Core routing syntax): literal segments matched without
// regard to case, `{name}`, `{name?}` (optional, last), `{name:constraint}` (int, long, guid, bool, alpha,
// datetime, decimal, double, float), and catch-all `{*name}`. When several routes match, the most specific
// wins: literals before constrained parameters before plain parameters before optional and catch-all ones.

type Segment =
  | { kind: 'literal'; text: string }
  | { kind: 'param'; name: string; optional: boolean; constraint?: RegExp }
  | { kind: 'catchAll'; name: string };

export interface CompiledRoute {
  template: string;
  /** Lower rank sorts first: more specific. Compared segment by segment. */
  rank: number[];
  match(path: string): Record<string, string> | undefined;
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  decimal: /^-?\d+(\.\d+)?$/,
  double: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  float: /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/,
  guid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  bool: /^(true|false)$/i,
  alpha: /^[a-z]+$/i,
  datetime: /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/,
};

function parseSegment(raw: string, template: string): Segment {
  const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+))?(\?)?\}$/.exec(raw);
  if (!m) {
    if (raw.includes('{') || raw.includes('}')) throw new Error(`Unsupported route segment "${raw}" in "${template}"`);
    return { kind: 'literal', text: raw.toLowerCase() };
  }
  const [, star, name, constraintName, optional] = m;
  if (star) return { kind: 'catchAll', name: name! };
  let constraint: RegExp | undefined;
  if (constraintName) {
    constraint = CONSTRAINTS[constraintName];
    if (!constraint) throw new Error(`Unsupported route constraint "${constraintName}" in "${template}"`);
  }
  return { kind: 'param', name: name!, optional: Boolean(optional), ...(constraint ? { constraint } : {}) };
}

const segmentRank = (s: Segment) =>
  s.kind === 'literal' ? 0 : s.kind === 'catchAll' ? 4 : s.optional ? 3 : s.constraint ? 1 : 2;

export function compileRoute(template: string): CompiledRoute {
  const segments = template
    .split('/')
    .filter(Boolean)
    .map((s) => parseSegment(s, template));
  segments.forEach((s, i) => {
    const last = i === segments.length - 1;
    if ((s.kind === 'catchAll' || (s.kind === 'param' && s.optional)) && !last) {
      throw new Error(`Only the last segment of "${template}" may be optional or catch-all`);
    }
  });
  return {
    template,
    rank: segments.map(segmentRank),
    match(path) {
      const parts = path.split('/').filter(Boolean);
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i]!;
        const part = parts[i];
        if (seg.kind === 'catchAll') {
          if (parts.length > i) params[seg.name] = parts.slice(i).map(decode).join('/');
          return params;
        }
        if (part === undefined) return seg.kind === 'param' && seg.optional ? params : undefined;
        const value = decode(part);
        if (seg.kind === 'literal') {
          if (value.toLowerCase() !== seg.text) return undefined;
        } else {
          if (seg.constraint && !seg.constraint.test(value)) return undefined;
          params[seg.name] = value;
        }
      }
      return parts.length === segments.length ? params : undefined;
    },
  };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Orders routes most specific first (see the file comment). */
export function bySpecificity(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < Math.max(a.rank.length, b.rank.length); i++) {
    const d = (a.rank[i] ?? -1) - (b.rank[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
