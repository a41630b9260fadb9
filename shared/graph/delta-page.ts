// One page of a delta round (delta-query-overview), for users and groups alike: the first page of a full round
// (no link) or the page a nextLink or stored deltaLink points to, at Graph's largest page size. A token Graph no
// longer knows (400 syncStateNotFound after its 7-day life) or a synchronization reset (410 Gone) means the round
// must start over in full: thrown as AppError `delta-token-expired`.
import { AppError } from '../domain/errors.js';
import type { GraphCall } from './graph-client.js';
import { classifyGraphError } from './graph-errors.js';

export interface DeltaPageOf<T> {
  value: T[];
  nextLink?: string;
  /** The round's last page: where the next round starts. */
  deltaLink?: string;
}

export async function deltaPage<T>(
  core: GraphCall,
  operation: string,
  resource: '/users/delta' | '/groups/delta',
  select: string[],
  link: string | undefined,
): Promise<DeltaPageOf<T>> {
  const page = (await core.send(operation, 'read', 'GET', resource, '', async () => {
    const request = link ? core.graph.api(link) : core.graph.api(resource).select(select.join(','));
    try {
      return (await request.header('Prefer', 'odata.maxpagesize=999').get()) as unknown;
    } catch (error) {
      const failure = classifyGraphError(error, operation);
      if (failure.details.status === 410 || failure.details.code === 'syncStateNotFound') {
        throw new AppError(
          'invalid',
          'delta-token-expired',
          `The delta token is no longer valid (${failure.message}): a full round is needed`,
          failure.details,
        );
      }
      throw failure;
    }
  })) as { value: T[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
  return {
    value: page.value,
    ...(page['@odata.nextLink'] ? { nextLink: page['@odata.nextLink'] } : {}),
    ...(page['@odata.deltaLink'] ? { deltaLink: page['@odata.deltaLink'] } : {}),
  };
}
