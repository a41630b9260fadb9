import { describe, expect, it } from 'vitest';
import {
  closestName,
  compileExpression,
  EXPRESSION_FUNCTIONS,
  ExpressionError,
  mailNicknameSafe,
  normalizeDiacritics,
  parseExpression,
  upnSafe,
} from '../../../shared/domain/mapping/expression.js';

const jose = {
  givenName: 'José',
  familyName: 'Müller-Lüdenscheidt',
  userName: 'jose.muller@source.example',
  displayName: null,
  empty: '',
  count: 3,
  active: true,
  phones: ['+49 30 1', ' +49 30 2 '],
};
const evaluate = (source: string, attributes: Record<string, unknown> = jose, domain = 'contoso.com'): unknown =>
  compileExpression(source).evaluate({ attributes, domain });

function parseError(source: string): ExpressionError {
  try {
    compileExpression(source);
  } catch (e) {
    if (e instanceof ExpressionError) return e;
    throw e;
  }
  throw new Error(`expected ${source} not to compile`);
}

describe('templates', () => {
  it.each([
    ['placeholders are replaced by attribute values', '"{givenName}.{familyName}"', 'José.Müller-Lüdenscheidt'],
    ["{domain} is the connection's domain", '"{givenName}@{domain}"', 'José@contoso.com'],
    ['text without placeholders is a plain string', '"Contoso GmbH"', 'Contoso GmbH'],
    ['numbers and booleans become text', '"{count}-{active}"', '3-true'],
    ['{{ and }} are literal braces', '"{{{givenName}}}"', '{José}'],
    ['\\" is a quote and \\\\ a backslash', '"say \\"{givenName}\\" \\\\ ok"', 'say "José" \\ ok'],
    ['the empty string literal is empty', '""', ''],
  ])('%s: %s', (_name, source, expected) => {
    expect(evaluate(source)).toBe(expected);
  });

  it.each([
    ['an absent attribute', '"{givenName} {middleName}"'],
    ['a null attribute', '"{displayName}!"'],
    ['an empty-string attribute', '"x{empty}"'],
    ['an empty list', '"{none}"'],
  ])('a placeholder for %s makes the whole template missing', (_name, source) => {
    expect(evaluate(source, { ...jose, none: [] })).toBeUndefined();
  });

  it('an empty domain counts as missing too', () => {
    expect(evaluate('"{userName}@{domain}"', jose, '')).toBeUndefined();
  });

  it('a list inside a template is an evaluation error naming the placeholder', () => {
    expect(() => evaluate('"{phones}"')).toThrow(/\{phones\} is a list/);
  });

  it('an attribute named like an Object.prototype member is just missing', () => {
    expect(evaluate('"{constructor}"', {})).toBeUndefined();
    expect(evaluate('toString', {})).toBeUndefined();
  });
});

describe('bare templates (no leading function name, identifier or quote)', () => {
  it.each([
    ['{givenName}.{familyName}@{domain}', 'José.Müller-Lüdenscheidt@contoso.com'],
    ['{givenName} "the" {familyName}', 'José "the" Müller-Lüdenscheidt'],
    ['{{literal}} {givenName}', '{literal} José'],
    ['42', '42'],
    ['-12.5', '-12.5'],
    ['-{givenName}-', '-José-'],
  ])('%s → %s', (source, expected) => {
    expect(evaluate(source)).toBe(expected);
  });

  it('are missing when a placeholder is missing, like quoted ones', () => {
    expect(evaluate('{givenName}.{nope}')).toBeUndefined();
  });

  it('a template that starts with a letter needs quotes; the error says so', () => {
    const e = parseError('jdoe-{employeeId}');
    expect(e.position).toBe(5);
    expect(e.message).toMatch(/expected end of expression \(a template that starts with a letter needs double quotes/);
  });
});

describe('references and literals', () => {
  it.each([
    ['an attribute as is', 'givenName', 'José'],
    ['a null attribute stays null (an explicit clear)', 'displayName', null],
    ['an absent attribute is missing', 'middleName', undefined],
    ['domain is reserved for the connection domain', 'domain', 'contoso.com'],
    [
      'dotted and URN-style names are attribute names',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber',
      'E-17',
    ],
    ['true', 'true', true],
    ['false', 'false', false],
    ['null', 'null', null],
    ['a number (inside a call; a top-level number is a bare template)', 'default(middleName, -12.5)', -12.5],
    ['blanks around the expression are fine', '  lower( givenName )  ', 'josé'],
  ])('%s: %s', (_name, source, expected) => {
    const attrs = { ...jose, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber': 'E-17' };
    expect(evaluate(source, attrs)).toEqual(expected);
  });

  it('lists the attributes an expression reads, without domain', () => {
    expect(compileExpression('coalesce(displayName, "{givenName} {familyName}@{domain}")').attributes).toEqual([
      'displayName',
      'familyName',
      'givenName',
    ]);
  });
});

describe('functions', () => {
  it.each([
    ['lower', 'lower(givenName)', 'josé'],
    ['upper', 'upper(familyName)', 'MÜLLER-LÜDENSCHEIDT'],
    ['trim', 'trim("  a b  ")', 'a b'],
    ['normalizeDiacritics', 'normalizeDiacritics("{givenName} {familyName}")', 'Jose Muller-Ludenscheidt'],
    ['coalesce: first present', 'coalesce(displayName, middleName, givenName, familyName)', 'José'],
    [
      'coalesce: a missing template falls through',
      'coalesce("{middleName} x", "{givenName} {familyName}")',
      'José Müller-Lüdenscheidt',
    ],
    ['coalesce: all empty → null (clear)', 'coalesce(displayName, empty)', null],
    ['coalesce: all missing → missing', 'coalesce(a, b)', undefined],
    ['default: present value', 'default(givenName, "n/a")', 'José'],
    ['default: empty value → fallback', 'default(empty, "n/a")', 'n/a'],
    ['default: missing value → fallback', 'default(middleName, "n/a")', 'n/a'],
    ['left', 'left(familyName, 3)', 'Mül'],
    ['left beyond the length', 'left(givenName, 10)', 'José'],
    ['left counts code points', 'left("😀😀x", 2)', '😀😀'],
    ['left with a numeric-string count', 'left(givenName, "2")', 'Jo'],
    ['replace: literal, all occurrences', 'replace("a.b.c", ".", "")', 'abc'],
    ['replace: regex characters are literal', 'replace("a+b+c", "+", "-")', 'a-b-c'],
    ['concat', 'concat(givenName, "-", count)', 'José-3'],
    ['concat with a missing part is missing', 'concat(givenName, middleName)', undefined],
    ['localPart before the last @', 'localPart("a@b@c.example")', 'a@b'],
    ['localPart without @', 'localPart(givenName)', 'José'],
    ['upnSafe', 'upnSafe("José Müller-Lüdenscheidt (ext)")', 'JoseMuller-Ludenscheidtext'],
    ['mailNicknameSafe', 'mailNicknameSafe("O\'Brien, Seán")', "O'BrienSean"],
    ['function names are case-insensitive', 'LOWER(NormalizeDiacritics(givenName))', 'jose'],
    ['functions nest', 'lower(normalizeDiacritics("{givenName}.{familyName}"))', 'jose.muller-ludenscheidt'],
    ['the default UPN expression', 'concat(upnSafe(localPart(userName)), "@{domain}")', 'jose.muller@contoso.com'],
    ['text functions map over lists', 'trim(phones)', ['+49 30 1', '+49 30 2']],
    ['text functions keep null', 'upper(displayName)', null],
    ['text functions keep missing', 'upper(middleName)', undefined],
    ['text functions turn numbers into text', 'left(count, 1)', '3'],
  ])('%s: %s', (_name, source, expected) => {
    expect(evaluate(source)).toEqual(expected);
  });

  it('left() with a runtime count that is not a whole number is an evaluation error', () => {
    expect(() => evaluate('left(givenName, familyName)')).toThrow(/left\(\) needs a whole number ≥ 0/);
  });

  it('text functions refuse objects', () => {
    expect(() => evaluate('lower(x)', { x: { a: 1 } })).toThrow(/lower\(\) expects text, got an object/);
  });

  it('knows exactly the documented functions', () => {
    expect(EXPRESSION_FUNCTIONS).toEqual([
      'coalesce',
      'concat',
      'default',
      'left',
      'localPart',
      'lower',
      'mailNicknameSafe',
      'normalizeDiacritics',
      'replace',
      'trim',
      'upnSafe',
      'upper',
    ]);
  });
});

describe('normalizeDiacritics', () => {
  it.each([
    ['é', 'e'],
    ['José Müller-Lüdenscheidt', 'Jose Muller-Ludenscheidt'],
    ['Ångström', 'Angstrom'],
    ['çñšžčřý', 'cnszcry'],
    ['Straße', 'Strasse'],
    ['ẞ', 'SS'],
    ['Søren Ørsted', 'Soren Orsted'],
    ['Ærø', 'AEro'],
    ['Œuvre cœur', 'OEuvre coeur'],
    ['Łódź', 'Lodz'],
    ['Đorđe', 'Dorde'],
    ['Þór Ðór', 'Thor Dor'],
    ['ıstanbul', 'istanbul'],
    ['ﬁnance', 'finance'],
    ['plain ASCII stays', 'plain ASCII stays'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeDiacritics(input)).toBe(expected);
  });
});

describe('upnSafe / mailNicknameSafe (Entra username policy, Exchange alias rule)', () => {
  it.each([
    ['keeps what Entra allows', "a'b.c-d_e!f#g^h~i", "a'b.c-d_e!f#g^h~i"],
    ['drops other characters, after removing diacritics', 'Jörg Mäß+x/y', 'JorgMassxy'],
    ['collapses and trims periods (no "." before the @)', '..a...b..', 'a.b'],
    ['cuts to 64 characters and re-trims periods', `${'a'.repeat(63)}.b`, 'a'.repeat(63)],
  ])('upnSafe %s', (_name, input, expected) => {
    expect(upnSafe(input)).toBe(expected);
  });

  it.each([
    ['keeps the alias characters', "a!#$%&'*+-/=?^_`{|}~b", "a!#$%&'*+-/=?^_`{|}~b"],
    ['drops @ ( ) \\ [ ] " ; : < > , and space', 'a@b(c)d\\e[f]g"h;i:j<k>l,m n', 'abcdefghijklmn'],
    ['periods only between other characters', '.jose..muller.', 'jose.muller'],
    ['diacritics first', 'Seán Ó Dálaigh', 'SeanODalaigh'],
    ['at most 64 characters', 'x'.repeat(80), 'x'.repeat(64)],
  ])('mailNicknameSafe %s', (_name, input, expected) => {
    expect(mailNicknameSafe(input)).toBe(expected);
  });
});

describe('parse errors', () => {
  it.each([
    [
      'an unclosed call',
      'lower(normalizeDiacritics(givenName)',
      36,
      /^expected "," or "\)" at 36, found end of expression$/,
    ],
    ['a missing comma', 'left(givenName 3)', 15, /^expected "," or "\)" at 15, found "3"$/],
    ['an unclosed template', 'lower("{givenName}', 18, /^expected '"' at 18/],
    ['an unclosed placeholder', '"{givenName"', 11, /^expected "\}" at 11/],
    ['an empty placeholder', '"{}"', 2, /^expected an attribute name at 2/],
    ['a lone closing brace', '"a}b"', 2, /^unexpected "\}" at 2 \(write "\}\}" for a literal brace\)/],
    ['an unknown escape', '"a\\nb"', 2, /^unknown escape "\\n" at 2/],
    ['trailing input', 'givenName familyName', 10, /^expected end of expression at 10, found "f"/],
    ['an empty expression', '   ', 3, /^expected an expression at 3/],
    ['a missing argument', 'lower(,)', 6, /^expected an expression .* at 6, found ","/],
    ['a stray character', 'concat(givenName, +)', 18, /^expected an expression .* at 18, found "\+"/],
  ])('%s: %s → position %i', (_name, source, position, message) => {
    const e = parseError(source);
    expect(e).toBeInstanceOf(ExpressionError);
    expect(e.position).toBe(position);
    expect(e.message).toMatch(message);
  });

  it('an unknown function names the known ones and suggests the closest', () => {
    const e = parseError('lowr(givenName)');
    expect(e.position).toBe(0);
    expect(e.message).toMatch(
      /^unknown function "lowr" at 0 \(did you mean lower\?\); known functions: coalesce, concat, default, left/,
    );
  });

  it.each([
    ['lower(a, b)', /^lower\(\) takes 1 argument, got 2 at 0$/],
    ['x(left(a))', /^unknown function "x"/],
    ['default(a)', /^default\(\) takes 2 arguments, got 1 at 0$/],
    ['coalesce(a)', /^coalesce\(\) takes at least 2 arguments, got 1 at 0$/],
    ['trim()', /^trim\(\) takes 1 argument, got 0 at 0$/],
    ['  replace(a, "b")', /^replace\(\) takes 3 arguments, got 2 at 2$/],
  ])('wrong arity: %s', (source, message) => {
    expect(parseError(source).message).toMatch(message);
  });

  it.each([
    ['left(a, -1)', 8, /left\(\) needs a whole number ≥ 0/],
    ['left(a, 1.5)', 8, /left\(\) needs a whole number ≥ 0/],
    ['replace(a, "", "x")', 11, /replace\(\) needs non-empty text to find/],
    ['replace(a, "x", true)', 16, /replace\(\) needs text as the replacement/],
  ])('literal arguments are checked at compile time: %s', (source, position, message) => {
    const e = parseError(source);
    expect(e.position).toBe(position);
    expect(e.message).toMatch(message);
  });

  it('parseExpression gives the syntax tree', () => {
    expect(parseExpression('lower("{givenName}.x")')).toEqual({
      kind: 'call',
      name: 'lower',
      position: 0,
      args: [{ kind: 'template', position: 6, parts: [{ name: 'givenName', position: 7 }, '.x'] }],
    });
  });
});

describe('closestName', () => {
  it.each([
    ['surnme', 'surname'],
    ['givenname', 'givenName'],
    ['userPrincipleName', 'userPrincipalName'],
    ['ctiy', 'city'],
    ['somethingElseEntirely', undefined],
  ])('%s → %s', (name, expected) => {
    expect(closestName(name, ['surname', 'givenName', 'userPrincipalName', 'city', 'country'])).toBe(expected);
  });
});
