import { describe, expect, it } from 'vitest';
import type { OperationMessage } from '../../../shared/domain/change.js';
import { type DesiredState, effectiveChange, mergeChange } from '../../../shared/domain/desired-state.js';

const m = (version: number, type: OperationMessage['type'], attributes?: Record<string, unknown>): OperationMessage =>
  ({
    type,
    version,
    connectionId: 'c',
    externalId: 'e',
    operationId: `v${version}`,
    ...(attributes ? { attributes } : {}),
  }) as OperationMessage;

const history = [
  m(1, 'upsert', { jobTitle: 'a' }),
  m(2, 'upsert', { jobTitle: 'b' }),
  m(3, 'deactivate'),
  m(4, 'upsert', { jobTitle: 'c', active: false }),
  m(5, 'activate'),
];

function fold(messages: OperationMessage[]): DesiredState {
  return messages.reduce((s, msg) => mergeChange(s, msg).next, {} as DesiredState);
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [x, ...rest]),
  );
}

describe('merged desired state', () => {
  it('ends the same whatever the order and however often each change arrives', () => {
    const inOrder = fold(history);
    expect(inOrder).toEqual({
      profile: { version: 4, attributes: { jobTitle: 'c', active: false } },
      lifecycle: { version: 5, state: 'active', explicit: true },
    });
    for (const order of permutations(history)) expect(fold([...order, ...order.slice(0, 2)])).toEqual(inOrder);
  });

  it('says a duplicate or an older change changed nothing (stale)', () => {
    const state = fold(history);
    expect(mergeChange(state, m(2, 'upsert', { jobTitle: 'b' })).changed).toBe(false);
    expect(mergeChange(state, m(5, 'activate')).changed).toBe(false);
    expect(mergeChange(state, m(6, 'remove')).changed).toBe(true);
  });

  it('keeps a deactivation that arrived before the profile: the account is created disabled', () => {
    const state = fold([m(3, 'deactivate'), m(1, 'upsert', { jobTitle: 'a' })]);
    expect(effectiveChange(state)).toEqual({
      type: 'upsert',
      attributes: { jobTitle: 'a' },
      enabled: false,
      explicit: true,
      hasProfile: true,
    });
    expect(effectiveChange(fold([m(3, 'deactivate')]))).toEqual({
      type: 'deactivate',
      attributes: {},
      enabled: false,
      explicit: true,
      hasProfile: false,
    });
  });

  it('treats removal as final until a newer change re-assigns the user', () => {
    expect(effectiveChange(fold([m(1, 'upsert', { a: 1 }), m(2, 'remove')])).type).toBe('remove');
    expect(effectiveChange(fold([m(1, 'upsert', { a: 1 }), m(2, 'remove'), m(3, 'upsert', { a: 2 })]))).toMatchObject({
      type: 'upsert',
      enabled: true,
      explicit: false,
    });
  });
});
