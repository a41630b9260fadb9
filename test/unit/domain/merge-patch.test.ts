import { describe, expect, it } from 'vitest';
import { auditChanges } from '../../../shared/domain/config-audit.js';
import { changedPaths, mergePatch } from '../../../shared/domain/merge-patch.js';

describe('JSON Merge Patch (RFC 7396)', () => {
  // RFC 7396 Appendix A: every example, target + patch → result.
  const examples: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  it.each(examples)('%j patched with %j is %j', (target, patch, result) => {
    const before = JSON.stringify(target);
    expect(mergePatch(target, patch)).toEqual(result);
    expect(JSON.stringify(target)).toBe(before);
  });
});

describe('changed paths and audit changes', () => {
  it('lists added, removed and changed members as dotted paths; arrays compare whole', () => {
    expect(
      changedPaths({ a: 1, b: { c: 2, d: [1, 2] }, gone: true }, { a: 1, b: { c: 3, d: [1, 2] }, added: 'x' }),
    ).toEqual([
      { path: 'b.c', before: 2, after: 3 },
      { path: 'gone', before: true },
      { path: 'added', after: 'x' },
    ]);
    expect(changedPaths({ l: [1, 2] }, { l: [2, 1] })).toEqual([{ path: 'l', before: [1, 2], after: [2, 1] }]);
    expect(changedPaths({ a: { b: 1 } }, { a: { b: 1 } })).toEqual([]);
  });

  it('records a secret as set, changed or removed, never its value', () => {
    expect(auditChanges({}, { s: 'x' }, ['s'])).toEqual([{ path: 's', secret: 'set' }]);
    expect(auditChanges({ s: 'x' }, { s: 'y' }, ['s'])).toEqual([{ path: 's', secret: 'changed' }]);
    expect(auditChanges({ s: 'x' }, {}, ['s'])).toEqual([{ path: 's', secret: 'removed' }]);
    const nested = auditChanges(
      { p: { pw: { constant: 'old-secret' } } },
      { p: { pw: { constant: 'new-secret', applyOn: 'create' } } },
      ['p.pw'],
    );
    expect(nested).toEqual([{ path: 'p.pw', secret: 'changed' }]);
    expect(JSON.stringify(nested)).not.toMatch(/old-secret|new-secret/);
  });
});
