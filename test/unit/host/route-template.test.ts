import { describe, expect, it } from 'vitest';
import { bySpecificity, compileRoute } from '../../../dev/host/route-template.js';

describe('route templates (ASP.NET Core routing syntax, as Azure Functions uses)', () => {
  it.each([
    ['connections/{id}', '/connections/abc', { id: 'abc' }],
    ['connections/{id}', '/CONNECTIONS/abc', { id: 'abc' }],
    ['connections/{id}', '/connections/a%2Fb', { id: 'a/b' }],
    ['connections/{id}/users/{externalId}', '/connections/1/users/u%40x', { id: '1', externalId: 'u@x' }],
    ['items/{n:int}', '/items/-42', { n: '-42' }],
    ['items/{id:guid}', '/items/0f8fad5b-d9cb-469f-a165-70867728950e', { id: '0f8fad5b-d9cb-469f-a165-70867728950e' }],
    ['items/{id?}', '/items', {}],
    ['items/{id?}', '/items/7', { id: '7' }],
    ['files/{*path}', '/files/a/b/c', { path: 'a/b/c' }],
    ['files/{*path}', '/files', {}],
  ])('%s matches %s', (template, path, params) => {
    expect(compileRoute(template).match(path)).toEqual(params);
  });

  it.each([
    ['connections/{id}', '/connections'],
    ['connections/{id}', '/connections/a/b'],
    ['connections', '/other'],
    ['items/{n:int}', '/items/x'],
    ['items/{id:guid}', '/items/not-a-guid'],
  ])('%s does not match %s', (template, path) => {
    expect(compileRoute(template).match(path)).toBeUndefined();
  });

  it('rejects templates it cannot honour instead of matching them wrongly', () => {
    expect(() => compileRoute('a/{id?}/b')).toThrow(/last segment/);
    expect(() => compileRoute('a/{id:regex}')).toThrow(/constraint "regex"/);
    expect(() => compileRoute('a/x{id}')).toThrow(/Unsupported route segment/);
  });

  it('orders literals before constrained, plain, optional and catch-all parameters', () => {
    const routes = ['a/{*rest}', 'a/{id?}', 'a/{id}', 'a/{id:int}', 'a/b'].map(compileRoute);
    expect(routes.sort(bySpecificity).map((r) => r.template)).toEqual([
      'a/b',
      'a/{id:int}',
      'a/{id}',
      'a/{id?}',
      'a/{*rest}',
    ]);
  });
});
