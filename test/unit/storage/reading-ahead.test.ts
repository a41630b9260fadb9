// readingAhead (shared/storage/table-support.ts): the next page is asked for while the caller works on the current
// one; pages come in order, a failure surfaces at the page that failed, and a caller stopping early ends the query.
import { describe, expect, it } from 'vitest';
import { readingAhead } from '../../../shared/storage/table-support.js';

/** A query of `count` pages that records when each page is asked for; page `failAt` fails. */
function query(count: number, failAt?: number) {
  const events: string[] = [];
  let returned = false;
  const pages: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: async () => {
          const page = i++;
          events.push(`ask ${page}`);
          await new Promise((r) => setTimeout(r, 1));
          if (page === failAt) throw new Error(`page ${page} failed`);
          return page < count ? { done: false, value: page } : { done: true, value: undefined };
        },
        return: async () => {
          returned = true;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { pages, events, returned: () => returned };
}

describe('readingAhead', () => {
  it('asks for the next page before the caller is done with the current one, and keeps the order', async () => {
    const q = query(3);
    const seen: number[] = [];
    for await (const page of readingAhead(q.pages)) {
      q.events.push(`work ${page}`);
      seen.push(page);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(q.events).toEqual(['ask 0', 'ask 1', 'work 0', 'ask 2', 'work 1', 'ask 3', 'work 2']);
  });

  it('throws at the page that failed, after the pages before it', async () => {
    const q = query(5, 2);
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of readingAhead(q.pages)) seen.push(page);
      })(),
    ).rejects.toThrow('page 2 failed');
    expect(seen).toEqual([0, 1]);
  });

  it('ends the query when the caller stops early', async () => {
    const q = query(10);
    for await (const page of readingAhead(q.pages)) if (page === 1) break;
    expect(q.returned()).toBe(true);
    expect(q.events.filter((e) => e.startsWith('ask'))).toEqual(['ask 0', 'ask 1', 'ask 2']);
  });
});
