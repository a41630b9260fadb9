// A small, honest reader of the Bicep literals the infrastructure keeps in one place (`var appSettings = {…}`,
// `var queueNames = […]`): enough of Bicep's lexical rules to find where a literal ends — single-quoted strings
// with escapes and `${…}` interpolation, '''multi-line''' strings, // and /* */ comments, nested (), [], {} —
// and to split it into its top-level entries (separated by newlines or commas). It evaluates nothing: a value
// is kept as written, and is a known string only when it is a plain string literal.

export interface BicepEntry {
  /** The value as written, e.g. `'managedidentity'` or `storage.outputs.name`. */
  raw: string;
  /** The string, when the value is a string literal without interpolation. */
  literal?: string;
}

const CLOSERS: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

/** Index just past the string starting at `i` (src[i] is a quote). */
function skipString(src: string, i: number): number {
  if (src.startsWith("'''", i)) {
    const end = src.indexOf("'''", i + 3);
    if (end < 0) throw new Error(`unterminated multi-line string at ${i}`);
    return end + 3;
  }
  let j = i + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') j += 2;
    else if (c === "'") return j + 1;
    else if (c === '$' && src[j + 1] === '{') j = skipBalanced(src, j + 2, '}');
    else if (c === '\n') break;
    else j++;
  }
  throw new Error(`unterminated string at ${i}`);
}

/** Index just past a comment starting at `i`, or `i` when there is none. */
function skipComment(src: string, i: number): number {
  if (src.startsWith('//', i)) {
    const end = src.indexOf('\n', i);
    return end < 0 ? src.length : end;
  }
  if (src.startsWith('/*', i)) {
    const end = src.indexOf('*/', i + 2);
    if (end < 0) throw new Error(`unterminated comment at ${i}`);
    return end + 2;
  }
  return i;
}

/** Index just past the `close` that balances an opener just before `i`. */
function skipBalanced(src: string, i: number, close: string): number {
  const expected = [close];
  let j = i;
  while (j < src.length) {
    const c = src[j]!;
    const afterComment = skipComment(src, j);
    if (afterComment !== j) {
      j = afterComment;
    } else if (c === "'") {
      j = skipString(src, j);
    } else if (CLOSERS[c]) {
      expected.push(CLOSERS[c]);
      j++;
    } else if (c === '}' || c === ']' || c === ')') {
      if (expected.pop() !== c) throw new Error(`unbalanced "${c}" at ${j}`);
      j++;
      if (expected.length === 0) return j;
    } else {
      j++;
    }
  }
  throw new Error(`no "${close}" closes what opens before ${i}`);
}

/** The top-level entries of a `{…}` or `[…]` body, comments dropped. */
function topLevelEntries(body: string): string[] {
  const entries: string[] = [];
  let current = '';
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    const afterComment = skipComment(body, i);
    if (afterComment !== i) {
      i = afterComment;
    } else if (c === "'") {
      const end = skipString(body, i);
      current += body.slice(i, end);
      i = end;
    } else if (CLOSERS[c]) {
      const end = skipBalanced(body, i + 1, CLOSERS[c]);
      current += body.slice(i, end);
      i = end;
    } else if (c === '\n' || c === ',') {
      entries.push(current.trim());
      current = '';
      i++;
    } else {
      current += c;
      i++;
    }
  }
  entries.push(current.trim());
  return entries.filter(Boolean);
}

/** The body of the `{` or `[` literal assigned by `var <name> =`. */
function literalBody(source: string, name: string, open: '{' | '['): string {
  const declaration = new RegExp(`^\\s*var\\s+${name}\\s*=\\s*\\${open}`, 'm').exec(source);
  if (!declaration) throw new Error(`no "var ${name} = ${open}…" in the Bicep source`);
  const start = declaration.index + declaration[0].length;
  const end = skipBalanced(source, start, CLOSERS[open]!);
  return source.slice(start, end - 1);
}

/** The string a Bicep string literal stands for, or undefined when it is not a plain literal. */
export function literalString(raw: string): string | undefined {
  if (raw.startsWith("'''"))
    return raw.length >= 6 && raw.endsWith("'''") && skipString(raw, 0) === raw.length ? raw.slice(3, -3) : undefined;
  if (!raw.startsWith("'")) return undefined;
  let end: number;
  try {
    end = skipString(raw, 0);
  } catch {
    return undefined;
  }
  if (end !== raw.length) return undefined;
  const inner = raw.slice(1, -1);
  if (/(^|[^\\])(\\\\)*\$\{/.test(inner)) return undefined; // interpolated
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", $: '$' };
  return inner.replace(/\\(u\{[0-9A-Fa-f]+\}|.)/g, (_, e: string) =>
    e.startsWith('u{') ? String.fromCodePoint(parseInt(e.slice(2, -1), 16)) : (escapes[e] ?? e),
  );
}

/** The properties of the object literal `var <name> = {…}`, in order. */
export function bicepObjectVar(source: string, name: string): Map<string, BicepEntry> {
  const result = new Map<string, BicepEntry>();
  for (const entry of topLevelEntries(literalBody(source, name, '{'))) {
    const m = /^(?:([A-Za-z_][A-Za-z0-9_]*)|('(?:[^'\\]|\\.)*'))\s*:\s*([\s\S]+)$/.exec(entry);
    if (!m) throw new Error(`var ${name}: "${entry}" is not a "name: value" property`);
    const key = m[1] ?? literalString(m[2]!);
    if (key === undefined) throw new Error(`var ${name}: the key of "${entry}" is not a plain name`);
    if (result.has(key)) throw new Error(`var ${name}: "${key}" is set twice`);
    const raw = m[3]!.trim();
    const literal = literalString(raw);
    result.set(key, literal === undefined ? { raw } : { raw, literal });
  }
  return result;
}

/** The strings of the array literal `var <name> = […]`; every item must be a plain string literal. */
export function bicepStringArrayVar(source: string, name: string): string[] {
  return topLevelEntries(literalBody(source, name, '[')).map((item) => {
    const value = literalString(item);
    if (value === undefined) throw new Error(`var ${name}: ${item} is not a plain string literal`);
    return value;
  });
}
