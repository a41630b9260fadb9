/**
 * The mapping expression language: small, strict, compiled once and evaluated many times. One file on purpose
 * (over our usual ~300 lines): tokenizer, parser, function table and evaluator are one language and change together.
 *
 * ## Values
 * An expression reads the change's attributes (a flat record; names are looked up verbatim, case-sensitive) and
 * yields a value. Two kinds of "nothing" are kept apart because the caller treats them differently:
 * - *missing* (`undefined`): the attribute is not in the change at all → the target is left alone / unresolved;
 * - *empty* (`null` or `""`, also `[]`): the source says "no value" → an explicit clear of the target.
 *
 * ## Grammar
 * ```
 * top        := expression | bareTemplate      (see "Bare templates" below)
 * expression := call | literal | reference
 * call       := NAME "(" [ expression { "," expression } ] ")"      NAME is case-insensitive
 * reference  := IDENT                          an attribute, e.g. givenName, name.familyName, urn:…:employeeNumber
 *                                              (`domain` is reserved: the connection's verified domain)
 * literal    := template | NUMBER | "true" | "false" | "null"
 * template   := '"' { char | "\\\"" | "\\\\" | "{{" | "}}" | "{" IDENT "}" } '"'
 * NUMBER     := [-] digits [ "." digits ]
 * IDENT      := [A-Za-z_] [A-Za-z0-9_.:-]*
 * ```
 * Whitespace is allowed between tokens, not inside them.
 *
 * ## Templates
 * A double-quoted string is a template: `"{givenName}.{familyName}@{domain}"`. `{domain}` is the connection's
 * verified domain. If any placeholder's value is missing or empty the whole template is *missing*, so that
 * `coalesce`/`default` can fall back. `{{` and `}}` are literal braces, `\"` a quote and `\\` a backslash; no other
 * escapes. A placeholder must hold a single value (text, number or boolean); a list or object is an error.
 *
 * ## Bare templates
 * As a convenience, an expression whose first non-blank character is not a letter, `_` or `"` (that is, it can't
 * start a function name, an attribute reference or a quoted template) is read as a template without quotes:
 * `{givenName}.{familyName}@{domain}` ≡ `"{givenName}.{familyName}@{domain}"`. In a bare template only `{{`/`}}`
 * are escapes (quotes and backslashes are literal). A template starting with a letter needs the quotes:
 * `"jdoe-{employeeId}"`.
 *
 * ## Functions (names case-insensitive)
 * | function                     | result                                                                          |
 * |------------------------------|---------------------------------------------------------------------------------|
 * | `lower(x)`, `upper(x)`       | case-mapped text                                                                |
 * | `trim(x)`                    | without leading/trailing white space                                            |
 * | `normalizeDiacritics(x)`     | é→e, ü→u, ß→ss, ø→o, æ→ae, ł→l …: NFKD, combining marks dropped, plus a table    |
 * |                              | for letters that don't decompose                                                |
 * | `coalesce(a, b, …)`          | first argument that is present and non-empty (≥ 2 arguments)                   |
 * | `default(x, fallback)`       | `x` if present and non-empty, else `fallback`                                    |
 * | `left(x, n)`                 | the first `n` characters (code points)                                          |
 * | `replace(x, "find", "repl")` | every occurrence of the literal text `find` replaced                            |
 * | `concat(a, b, …)`            | the arguments joined; missing if any is missing or empty (like a template)      |
 * | `localPart(x)`               | the text before the last `@` (all of `x` if it has none)                        |
 * | `upnSafe(x)`                 | `x` reduced to what Entra allows before the `@` of a userPrincipalName          |
 * | `mailNicknameSafe(x)`        | `x` reduced to what Exchange allows in a mail alias (mailNickname)              |
 *
 * Text functions pass missing/empty through, turn numbers and booleans into text and apply element-wise to lists.
 * `coalesce`/`default` with no usable argument answer empty (`null`) if any argument was empty, else missing.
 *
 * `upnSafe`: Entra's username policy ("Password policies and account restrictions in Microsoft Entra ID",
 * learn.microsoft.com/entra/identity/authentication/concept-sspr-policy#username-policies) allows A–Z a–z 0–9 and
 * `' . - _ ! # ^ ~` before the `@`, at most 64 characters, and no `.` right before the `@`.
 * `mailNicknameSafe`: Exchange's alias rule (the `Alias` parameter of New-Mailbox / Set-Mailbox) allows A–Z a–z 0–9
 * and `! # $ % & ' * + - / = ? ^ _ \` { | } ~`, with periods only between other characters; Graph's user resource
 * caps mailNickname at 64 characters. (Graph's group resource states the looser "ASCII 0–127 except
 * `@ () \ [] " ; : <> ,` and space"; the Exchange set is inside it.) Both first normalise diacritics, then drop every
 * other character, collapse repeated periods, trim periods at either end and cut to 64 characters.
 *
 * ## Examples
 * ```
 * givenName                                                  the attribute as is
 * "{givenName} {familyName}"                                 "José Müller-Lüdenscheidt"
 * {givenName}.{familyName}@{domain}                          bare template
 * lower(normalizeDiacritics("{givenName}.{familyName}"))     "jose.muller-ludenscheidt"
 * coalesce(displayName, "{givenName} {familyName}")          displayName, else the built name
 * default(usageLocation, "DE")
 * left(upper(familyName), 3)                                 "MÜL"
 * replace(mobile, " ", "")
 * concat(upnSafe(localPart(userName)), "@{domain}")          "jose.muller@contoso.com"
 * ```
 *
 * ## Errors
 * `compileExpression` throws `ExpressionError` with a 0-based `position` and a message such as
 * `expected ")" at 23, found end of expression`; unknown functions name the known ones, wrong arity says how many
 * arguments the function takes. Evaluation throws `ExpressionError` only for values of the wrong shape (a list in a
 * template, `left(x, "abc")`).
 */

export class ExpressionError extends Error {
  constructor(
    message: string,
    /** 0-based offset into the expression text. */
    readonly position: number,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** What an expression reads: the change's attributes and the connection's verified domain. */
export interface EvaluationScope {
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly domain: string;
}

export type ExpressionNode =
  | { kind: 'literal'; value: string | number | boolean | null; position: number }
  | { kind: 'attribute'; name: string; position: number }
  | { kind: 'domain'; position: number }
  | { kind: 'template'; parts: readonly TemplatePart[]; position: number }
  | { kind: 'call'; name: string; args: readonly ExpressionNode[]; position: number };

/** Literal text, or a placeholder (`name` is an attribute, or the reserved `domain`). */
export type TemplatePart = string | { name: string; position: number };

export interface CompiledExpression {
  readonly source: string;
  readonly ast: ExpressionNode;
  /** Attribute names the expression reads (sorted, without `domain`). */
  readonly attributes: readonly string[];
  /** Missing → `undefined`; empty → `null`/`""`; otherwise the value. Throws ExpressionError for wrongly shaped values. */
  evaluate: (scope: EvaluationScope) => unknown;
}

/** The reserved name for the connection's verified domain, in templates (`{domain}`) and as a bare reference. */
export const DOMAIN = 'domain';

// ---------------------------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------------------------

type Evaluator = (scope: EvaluationScope) => unknown;

interface FunctionSpec {
  /** Canonical spelling. */
  name: string;
  min: number;
  max: number;
  build(args: readonly Evaluator[], nodes: readonly ExpressionNode[], position: number): Evaluator;
  /** Compile-time checks on literal arguments. */
  check?(nodes: readonly ExpressionNode[]): void;
}

export const isPresent = (v: unknown): boolean =>
  v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0);

/** Applies a text function: missing/empty pass through, scalars become text, lists element-wise. */
function mapText(v: unknown, f: (s: string) => string, fn: string, position: number): unknown {
  if (typeof v === 'string') return f(v);
  if (v === undefined || v === null) return v;
  if (typeof v === 'number' || typeof v === 'boolean') return f(String(v));
  if (Array.isArray(v)) return v.map((e: unknown) => mapText(e, f, fn, position));
  throw new ExpressionError(`${fn}() expects text, got ${describeKind(v)} at ${position}`, position);
}

const describeKind = (v: unknown): string =>
  Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

const textFunction = (name: string, f: (s: string) => string): FunctionSpec => ({
  name,
  min: 1,
  max: 1,
  build:
    ([x], _nodes, position) =>
    (scope) =>
      mapText(x!(scope), f, name, position),
});

/** Text for a template placeholder or a concat() part: undefined = missing/empty (the whole result is missing). */
function partText(v: unknown, what: string, position: number): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.length === 0) return undefined;
  throw new ExpressionError(
    `${what} is ${describeKind(v)}; only single values (text, number, boolean) can be joined (at ${position})`,
    position,
  );
}

/** Letters NFKD leaves alone; the common transliterations. */
const EXTRA_LETTERS: Readonly<Record<string, string>> = {
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'Th',
  ł: 'l',
  Ł: 'L',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
  ŋ: 'ng',
  Ŋ: 'Ng',
  ŧ: 't',
  Ŧ: 'T',
  ĸ: 'k',
  ƒ: 'f',
};
const EXTRA_LETTER = new RegExp(`[${Object.keys(EXTRA_LETTERS).join('')}]`, 'g');
// eslint-disable-next-line no-control-regex -- the ASCII range, for the fast path
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const COMBINING_MARKS = /\p{M}+/gu;

/** é→e, ü→u, ß→ss, ø→o, æ→ae, ł→l, ﬁ→fi …: NFKD, combining marks removed, then the table above. */
export function normalizeDiacritics(s: string): string {
  if (ASCII_ONLY.test(s)) return s;
  return s
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .replace(EXTRA_LETTER, (c) => EXTRA_LETTERS[c] ?? c);
}

const MAX_ALIAS = 64;
function dotAtom(s: string, disallowed: RegExp): string {
  let out = normalizeDiacritics(s)
    .replace(disallowed, '')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.+|\.+$/g, '');
  if (out.length > MAX_ALIAS) out = out.slice(0, MAX_ALIAS).replace(/\.+$/, '');
  return out;
}
/** A character Entra does not allow before the `@` of a userPrincipalName (global: use with match/replace). */
export const NOT_UPN_CHAR = /[^A-Za-z0-9'.\-_!#^~]/g;
const NOT_ALIAS_CHAR = /[^A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]/g;

/** Before the `@` of a userPrincipalName: Entra's username policy (see the header). */
export const upnSafe = (s: string): string => dotAtom(s, NOT_UPN_CHAR);
/** A mailNickname: Exchange's alias characters, ≤ 64 (see the header). */
export const mailNicknameSafe = (s: string): string => dotAtom(s, NOT_ALIAS_CHAR);
export const localPart = (s: string): string => {
  const at = s.lastIndexOf('@');
  return at < 0 ? s : s.slice(0, at);
};

function firstPresent(args: readonly Evaluator[]): Evaluator {
  return (scope) => {
    let sawEmpty = false;
    for (const arg of args) {
      const v = arg(scope);
      if (isPresent(v)) return v;
      if (v !== undefined) sawEmpty = true;
    }
    return sawEmpty ? null : undefined;
  };
}

function nonNegativeInteger(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

const FUNCTIONS: readonly FunctionSpec[] = [
  textFunction('lower', (s) => s.toLowerCase()),
  textFunction('upper', (s) => s.toUpperCase()),
  textFunction('trim', (s) => s.trim()),
  textFunction('normalizeDiacritics', normalizeDiacritics),
  textFunction('localPart', localPart),
  textFunction('upnSafe', upnSafe),
  textFunction('mailNicknameSafe', mailNicknameSafe),
  { name: 'coalesce', min: 2, max: Infinity, build: (args) => firstPresent(args) },
  { name: 'default', min: 2, max: 2, build: (args) => firstPresent(args) },
  {
    name: 'left',
    min: 2,
    max: 2,
    check: ([, n]) => {
      if (n?.kind === 'literal' && nonNegativeInteger(n.value) === undefined) {
        throw new ExpressionError(
          `left() needs a whole number ≥ 0 as its second argument at ${n.position}`,
          n.position,
        );
      }
    },
    build:
      ([x, count], nodes, position) =>
      (scope) => {
        const rawN = count!(scope);
        const n = nonNegativeInteger(rawN);
        if (n === undefined) {
          throw new ExpressionError(
            `left() needs a whole number ≥ 0 as its second argument, got ${describeKind(rawN)} at ${nodes[1]!.position}`,
            nodes[1]!.position,
          );
        }
        return mapText(x!(scope), (s) => (s.length <= n ? s : Array.from(s).slice(0, n).join('')), 'left', position);
      },
  },
  {
    name: 'replace',
    min: 3,
    max: 3,
    check: ([, find, replacement]) => {
      if (
        find?.kind === 'literal' &&
        ((typeof find.value !== 'string' && typeof find.value !== 'number') || find.value === '')
      ) {
        throw new ExpressionError(`replace() needs non-empty text to find at ${find.position}`, find.position);
      }
      if (
        replacement?.kind === 'literal' &&
        typeof replacement.value !== 'string' &&
        typeof replacement.value !== 'number'
      ) {
        throw new ExpressionError(
          `replace() needs text as the replacement at ${replacement.position}`,
          replacement.position,
        );
      }
    },
    build:
      ([x, find, replacement], nodes, position) =>
      (scope) => {
        const f = find!(scope);
        const r = replacement!(scope);
        if ((typeof f !== 'string' && typeof f !== 'number') || f === '') {
          throw new ExpressionError(
            `replace() needs non-empty text to find, got ${describeKind(f)} at ${nodes[1]!.position}`,
            nodes[1]!.position,
          );
        }
        const findText = String(f);
        const replacementText =
          r === null || r === undefined ? '' : typeof r === 'string' || typeof r === 'number' ? String(r) : undefined;
        if (replacementText === undefined) {
          throw new ExpressionError(
            `replace() needs text as the replacement, got ${describeKind(r)} at ${nodes[2]!.position}`,
            nodes[2]!.position,
          );
        }
        return mapText(x!(scope), (s) => s.replaceAll(findText, replacementText), 'replace', position);
      },
  },
  {
    name: 'concat',
    min: 2,
    max: Infinity,
    build: (args, nodes) => (scope) => {
      let out = '';
      for (let i = 0; i < args.length; i++) {
        const text = partText(args[i]!(scope), `concat() argument ${i + 1}`, nodes[i]!.position);
        if (text === undefined) return undefined;
        out += text;
      }
      return out;
    },
  },
];

const FUNCTION_BY_LOWER_NAME = new Map(FUNCTIONS.map((f) => [f.name.toLowerCase(), f]));
/** Each function with how many arguments it takes (max: null = any number), sorted by name. */
export const EXPRESSION_FUNCTION_ARITY: readonly { name: string; minArgs: number; maxArgs: number | null }[] =
  FUNCTIONS.map((f) => ({ name: f.name, minArgs: f.min, maxArgs: Number.isFinite(f.max) ? f.max : null })).sort(
    (a, b) => a.name.localeCompare(b.name, 'en'),
  );

/** Canonical function names, sorted. */
export const EXPRESSION_FUNCTIONS: readonly string[] = FUNCTIONS.map((f) => f.name).sort((a, b) =>
  a.localeCompare(b, 'en'),
);

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

const isIdentStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_.:-]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class Parser {
  private pos = 0;
  constructor(private readonly src: string) {}

  parseTop(): ExpressionNode {
    this.skipBlanks();
    const first = this.src[this.pos];
    if (first === undefined) throw this.error('expected an expression');
    if (!isIdentStart(first) && first !== '"') return this.template(0, this.src.length, false).node;
    const node = this.expression();
    this.skipBlanks();
    if (this.pos < this.src.length) {
      const hint =
        this.src[this.pos] === '{' ? ' (a template that starts with a letter needs double quotes: "…{name}…")' : '';
      throw this.error(`expected end of expression${hint}`);
    }
    return node;
  }

  private expression(): ExpressionNode {
    this.skipBlanks();
    const start = this.pos;
    const c = this.src[start];
    if (c === '"') {
      const { node, end } = this.template(start + 1, this.src.length, true);
      this.pos = end;
      return node;
    }
    if (isDigit(c) || (c === '-' && isDigit(this.src[start + 1]))) return this.number();
    if (!isIdentStart(c))
      throw this.error('expected an expression (a function call, an attribute name, a number or a "template")');
    while (isIdentChar(this.src[this.pos])) this.pos++;
    const name = this.src.slice(start, this.pos);
    this.skipBlanks();
    if (this.src[this.pos] === '(') return this.call(name, start);
    if (name === 'true' || name === 'false') return { kind: 'literal', value: name === 'true', position: start };
    if (name === 'null') return { kind: 'literal', value: null, position: start };
    if (name === DOMAIN) return { kind: 'domain', position: start };
    return { kind: 'attribute', name, position: start };
  }

  private call(name: string, start: number): ExpressionNode {
    const spec = FUNCTION_NAME.test(name) ? FUNCTION_BY_LOWER_NAME.get(name.toLowerCase()) : undefined;
    if (!spec) {
      const suggestion = closestName(name, EXPRESSION_FUNCTIONS);
      throw new ExpressionError(
        `unknown function "${name}" at ${start}${suggestion ? ` (did you mean ${suggestion}?)` : ''}; known functions: ${EXPRESSION_FUNCTIONS.join(', ')}`,
        start,
      );
    }
    this.pos++; // (
    const args: ExpressionNode[] = [];
    this.skipBlanks();
    if (this.src[this.pos] === ')') {
      this.pos++;
    } else {
      for (;;) {
        args.push(this.expression());
        this.skipBlanks();
        const c = this.src[this.pos];
        if (c === ',') {
          this.pos++;
          continue;
        }
        if (c === ')') {
          this.pos++;
          break;
        }
        throw this.error('expected "," or ")"');
      }
    }
    if (args.length < spec.min || args.length > spec.max) {
      const takes =
        spec.max === Infinity
          ? `at least ${spec.min} arguments`
          : spec.min === spec.max
            ? `${spec.min} argument${spec.min === 1 ? '' : 's'}`
            : `${spec.min}–${spec.max} arguments`;
      throw new ExpressionError(`${spec.name}() takes ${takes}, got ${args.length} at ${start}`, start);
    }
    spec.check?.(args);
    return { kind: 'call', name: spec.name, args, position: start };
  }

  private number(): ExpressionNode {
    const start = this.pos;
    const m = /^-?\d+(?:\.\d+)?/.exec(this.src.slice(start));
    this.pos += m![0].length;
    if (isIdentChar(this.src[this.pos]) && this.src[this.pos] !== '.') throw this.error('expected a number');
    return { kind: 'literal', value: Number(m![0]), position: start };
  }

  /**
   * A template from `from` (just after the opening quote when `quoted`) up to the closing quote or `to`.
   * Returns the node and the offset after it.
   */
  private template(from: number, to: number, quoted: boolean): { node: ExpressionNode; end: number } {
    const src = this.src;
    const position = quoted ? from - 1 : from;
    const parts: TemplatePart[] = [];
    let text = '';
    let i = from;
    for (;;) {
      if (i >= to) {
        if (quoted) throw new ExpressionError(`expected '"' at ${i}, found end of expression`, i);
        break;
      }
      const c = src[i]!;
      if (quoted && c === '"') {
        i++;
        break;
      }
      if (quoted && c === '\\') {
        const next = src[i + 1];
        if (next !== '"' && next !== '\\') {
          throw new ExpressionError(`unknown escape "\\${next ?? ''}" at ${i} (only \\" and \\\\ are escapes)`, i);
        }
        text += next;
        i += 2;
        continue;
      }
      if (c === '{') {
        if (src[i + 1] === '{') {
          text += '{';
          i += 2;
          continue;
        }
        const nameStart = i + 1;
        let j = nameStart;
        if (!isIdentStart(src[j]))
          throw new ExpressionError(`expected an attribute name at ${j} (write "{{" for a literal brace)`, j);
        while (isIdentChar(src[j])) j++;
        if (src[j] !== '}') throw new ExpressionError(`expected "}" at ${j}`, j);
        if (text) parts.push(text);
        text = '';
        parts.push({ name: src.slice(nameStart, j), position: i });
        i = j + 1;
        continue;
      }
      if (c === '}') {
        if (src[i + 1] === '}') {
          text += '}';
          i += 2;
          continue;
        }
        throw new ExpressionError(`unexpected "}" at ${i} (write "}}" for a literal brace)`, i);
      }
      text += c;
      i++;
    }
    if (text) parts.push(text);
    if (parts.every((p) => typeof p === 'string')) {
      return { node: { kind: 'literal', value: parts.join(''), position }, end: i };
    }
    return { node: { kind: 'template', parts, position }, end: i };
  }

  private skipBlanks(): void {
    while (isBlank(this.src[this.pos])) this.pos++;
  }

  private error(expected: string): ExpressionError {
    const c = this.src[this.pos];
    const found = c === undefined ? 'end of expression' : `"${c}"`;
    return new ExpressionError(`${expected} at ${this.pos}, found ${found}`, this.pos);
  }
}

/** Parses an expression into its syntax tree. Throws ExpressionError. */
export function parseExpression(source: string): ExpressionNode {
  return new Parser(source).parseTop();
}

// ---------------------------------------------------------------------------------------------
// Compiler: the tree becomes nested closures, so evaluating is a handful of calls per expression.
// ---------------------------------------------------------------------------------------------

const attributeReader =
  (name: string): Evaluator =>
  (scope) =>
    Object.hasOwn(scope.attributes, name) ? scope.attributes[name] : undefined;
const domainReader: Evaluator = (scope) => scope.domain;

function compileNode(node: ExpressionNode, attributes: Set<string>): Evaluator {
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'domain':
      return domainReader;
    case 'attribute':
      attributes.add(node.name);
      return attributeReader(node.name);
    case 'template': {
      const parts = node.parts.map((p): string | { read: Evaluator; name: string; position: number } => {
        if (typeof p === 'string') return p;
        if (p.name !== DOMAIN) attributes.add(p.name);
        return { read: p.name === DOMAIN ? domainReader : attributeReader(p.name), name: p.name, position: p.position };
      });
      return (scope) => {
        let out = '';
        for (const p of parts) {
          if (typeof p === 'string') {
            out += p;
            continue;
          }
          const text = partText(p.read(scope), `{${p.name}}`, p.position);
          if (text === undefined) return undefined;
          out += text;
        }
        return out;
      };
    }
    case 'call': {
      const spec = FUNCTION_BY_LOWER_NAME.get(node.name.toLowerCase())!;
      return spec.build(
        node.args.map((a) => compileNode(a, attributes)),
        node.args,
        node.position,
      );
    }
  }
}

/** Parses and compiles an expression once; evaluate it as often as needed. Throws ExpressionError. */
export function compileExpression(source: string): CompiledExpression {
  const ast = parseExpression(source);
  const attributes = new Set<string>();
  const evaluate = compileNode(ast, attributes);
  return { source, ast, attributes: [...attributes].sort(), evaluate };
}

// ---------------------------------------------------------------------------------------------
// "Did you mean …?"
// ---------------------------------------------------------------------------------------------

/** Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), case-insensitive. */
function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The candidate closest to `name` if it is plausibly a typo of it (ties: the first in `candidates`). */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}
