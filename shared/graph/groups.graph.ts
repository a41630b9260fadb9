// Groups: find by mailNickname or displayName, read, create (members and owners bound in the same request), update,
// delete, and membership at Graph's minimum cost — members read as ids (paged), added 20 per PATCH
// (members@odata.bind), removed 20 per $batch.
import { GraphError } from '@microsoft/microsoft-graph-client';
import { AppError } from '../domain/errors.js';
import { MEMBERS_PER_WRITE } from '../domain/group-drift.js';
import type { GraphGroup, GroupPage, GroupsClient } from '../provisioning/ports.js';
import { deltaPage } from './delta-page.js';
import type { GraphCall } from './graph-client.js';
import { classifyGraphError } from './graph-errors.js';

/** json-batching: at most 20 requests in one $batch. */
const REQUESTS_PER_BATCH = 20;
const GROUP_SELECT = 'id,displayName,description,mailNickname,mailEnabled,securityEnabled,groupTypes,assignedLicenses';

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

/** Graph's answer when an added member is already there: success for us (the write is idempotent). */
const alreadyThere = (e: AppError) => /already exist/i.test(e.message);

export class GraphGroupsClient implements GroupsClient {
  constructor(private readonly core: GraphCall) {}

  private ref = (id: string) => `${this.core.graphBase}/directoryObjects/${id}`;

  async findGroups(attribute: 'mailNickname' | 'displayName', value: string, max: number): Promise<GraphGroup[]> {
    const filter = `${attribute} eq '${value.replaceAll("'", "''")}'`;
    const page = (await this.core.send('find-group', 'read', 'GET', '/groups', '$select=x&$top=n', () =>
      this.core.graph.api('/groups').filter(filter).select(GROUP_SELECT).top(max).get(),
    )) as { value: GraphGroup[] };
    return page.value;
  }

  async getGroup(id: string): Promise<GraphGroup | undefined> {
    try {
      return (await this.core.send('get-group', 'read', 'GET', '/groups/id', '$select=x', () =>
        this.core.graph
          .api(`/groups/${encodeURIComponent(id)}`)
          .select(GROUP_SELECT)
          .get(),
      )) as GraphGroup;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  async groupsPage(nextLink?: string): Promise<{ groups: GraphGroup[]; nextLink?: string }> {
    const page = (await this.core.send('list-groups', 'read', 'GET', '/groups', '$select=x&$top=999', () =>
      (nextLink ? this.core.graph.api(nextLink) : this.core.graph.api('/groups').select(GROUP_SELECT).top(999)).get(),
    )) as { value: GraphGroup[]; '@odata.nextLink'?: string };
    return { groups: page.value, ...(page['@odata.nextLink'] ? { nextLink: page['@odata.nextLink'] } : {}) };
  }

  async createGroup(body: Record<string, unknown>, members: string[], owners: string[]): Promise<GraphGroup> {
    // group-post-groups: at most 20 relationships (owners and members together) in the create.
    if (members.length + owners.length > MEMBERS_PER_WRITE)
      throw new AppError('invalid', 'invalid-group', `At most ${MEMBERS_PER_WRITE} owners and members in one create`);
    const full = {
      ...body,
      ...(members.length > 0 ? { 'members@odata.bind': members.map(this.ref) } : {}),
      ...(owners.length > 0 ? { 'owners@odata.bind': owners.map(this.ref) } : {}),
    };
    if (this.core.dryRun) {
      this.core.plan('POST', '/groups', full);
      return { ...body, id: `planned-${crypto.randomUUID()}` };
    }
    return (await this.core.send('create-group', 'write', 'POST', '/groups', '', () =>
      this.core.graph.api('/groups').post(full),
    )) as GraphGroup;
  }

  async updateGroup(id: string, patch: Record<string, unknown>): Promise<void> {
    if (this.core.dryRun) return this.core.plan('PATCH', `/groups/${id}`, patch);
    await this.core.send('update-group', 'write', 'PATCH', '/groups/id', '', () =>
      this.core.graph.api(`/groups/${encodeURIComponent(id)}`).patch(patch),
    );
  }

  async deleteGroup(id: string): Promise<void> {
    if (this.core.dryRun) return this.core.plan('DELETE', `/groups/${id}`);
    try {
      await this.core.send('delete-group', 'write', 'DELETE', '/groups/id', '', () =>
        this.core.graph.api(`/groups/${encodeURIComponent(id)}`).delete(),
      );
    } catch (error) {
      if (!(error instanceof AppError && error.kind === 'not-found')) throw error;
    }
  }

  memberIds(id: string): Promise<string[]> {
    return this.ids(id, 'members');
  }

  ownerIds(id: string): Promise<string[]> {
    return this.ids(id, 'owners');
  }

  private async ids(id: string, relation: 'members' | 'owners'): Promise<string[]> {
    if (id.startsWith('planned-')) return [];
    const ids: string[] = [];
    let link: string | undefined;
    do {
      const page = (await this.core.send(
        `list-${relation}`,
        'read',
        'GET',
        `/groups/id/${relation}`,
        '$select=id',
        () =>
          (link
            ? this.core.graph.api(link)
            : this.core.graph
                .api(`/groups/${encodeURIComponent(id)}/${relation}`)
                .select('id')
                .top(999)
          ).get(),
      )) as { value: { id: string }[]; '@odata.nextLink'?: string };
      for (const m of page.value) ids.push(m.id);
      link = page['@odata.nextLink'];
    } while (link);
    return ids;
  }

  async addMembers(id: string, memberIds: string[]): Promise<number> {
    let writes = 0;
    for (const chunk of chunks(memberIds, MEMBERS_PER_WRITE)) {
      const body = { 'members@odata.bind': chunk.map(this.ref) };
      writes++;
      if (this.core.dryRun) {
        this.core.plan('PATCH', `/groups/${id}`, body);
        continue;
      }
      try {
        await this.core.send('add-members', 'write', 'PATCH', '/groups/id', '', () =>
          this.core.graph.api(`/groups/${encodeURIComponent(id)}`).patch(body),
        );
      } catch (error) {
        // One of the 20 is already a member (added by hand, or by an earlier attempt): the whole request is
        // refused, so add these one at a time, each "already there" being success.
        if (!(error instanceof AppError && error.kind !== 'throttled' && alreadyThere(error))) throw error;
        for (const memberId of chunk) {
          writes++;
          await this.core
            .send('add-member', 'write', 'POST', '/groups/id/members/$ref', '', () =>
              this.core.graph
                .api(`/groups/${encodeURIComponent(id)}/members/$ref`)
                .post({ '@odata.id': this.ref(memberId) }),
            )
            .catch((e: unknown) => {
              if (!(e instanceof AppError && alreadyThere(e))) throw e;
            });
        }
      }
    }
    return writes;
  }

  async removeMembers(id: string, memberIds: string[]): Promise<number> {
    let sent = 0;
    for (const chunk of chunks(memberIds, REQUESTS_PER_BATCH)) {
      sent++;
      if (this.core.dryRun) {
        for (const m of chunk) this.core.plan('DELETE', `/groups/${id}/members/${m}/$ref`);
        continue;
      }
      const body = {
        requests: chunk.map((m, i) => ({
          id: String(i + 1),
          method: 'DELETE',
          url: `/groups/${id}/members/${m}/$ref`,
        })),
      };
      const answer = (await this.core.send('remove-members', 'write', 'POST', '/$batch', '', () =>
        this.core.graph.api('/$batch').post(body),
      )) as { responses: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[] };
      // Each item has its own status: 404 (already gone) is success; the first other failure is thrown as Graph's
      // error (a 429 inside the batch carries its own Retry-After).
      const failed = answer.responses.find((r) => r.status >= 400 && r.status !== 404);
      if (failed) {
        const b = failed.body as { error?: { code?: string; message?: string } } | undefined;
        const error = new GraphError(failed.status, b?.error?.message ?? `HTTP ${failed.status}`);
        error.code = b?.error?.code ?? null;
        error.headers = new Headers(failed.headers ?? {});
        error.body = JSON.stringify(failed.body ?? {});
        throw classifyGraphError(error, 'remove-members');
      }
    }
    return sent;
  }

  async restoreDeletedGroup(id: string): Promise<GraphGroup | undefined> {
    if (this.core.dryRun) {
      this.core.plan('POST', `/directory/deletedItems/${id}/restore`);
      return undefined;
    }
    let restored: GraphGroup;
    try {
      restored = (await this.core.send('restore-group', 'write', 'POST', '/directory/deletedItems/id/restore', '', () =>
        this.core.graph.api(`/directory/deletedItems/${encodeURIComponent(id)}/restore`).post({}),
      )) as GraphGroup;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
    // Read back with the decider's properties; right after the restore a read may still miss it (eventual
    // consistency), and the restore's own answer then stands in.
    return (await this.getGroup(id)) ?? restored;
  }

  async groupsDeltaPage(select: string[], link?: string): Promise<GroupPage> {
    const { value, ...links } = await deltaPage<GroupPage['groups'][number]>(
      this.core,
      'groups-delta',
      '/groups/delta',
      select,
      link,
    );
    return { groups: value, ...links };
  }

  async assignLicenses(id: string, add: { skuId: string; disabledPlans: string[] }[], remove: string[]): Promise<void> {
    const body = { addLicenses: add, removeLicenses: remove };
    if (this.core.dryRun) return this.core.plan('POST', `/groups/${id}/assignLicense`, body);
    await this.core.send('assign-group-license', 'write', 'POST', '/groups/id/assignLicense', '', () =>
      this.core.graph.api(`/groups/${encodeURIComponent(id)}/assignLicense`).post(body),
    );
  }

  async addOwners(id: string, ownerIds: string[]): Promise<void> {
    for (const ownerId of ownerIds) {
      const body = { '@odata.id': this.ref(ownerId) };
      if (this.core.dryRun) {
        this.core.plan('POST', `/groups/${id}/owners/$ref`, body);
        continue;
      }
      await this.core
        .send('add-owner', 'write', 'POST', '/groups/id/owners/$ref', '', () =>
          this.core.graph.api(`/groups/${encodeURIComponent(id)}/owners/$ref`).post(body),
        )
        .catch((e: unknown) => {
          if (!(e instanceof AppError && alreadyThere(e))) throw e;
        });
    }
  }
}
