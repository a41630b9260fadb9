// Users: find by the matching attribute, read, create, update, delete, restore from deleted items, and page through
// all users or a delta round.
import { AppError } from '../domain/errors.js';
import type { MatchingAttribute } from '../domain/sync-settings.js';
import type { GraphUser, UserPage, UsersClient } from '../provisioning/ports.js';
import { deltaPage } from './delta-page.js';
import type { GraphCall } from './graph-client.js';

export class GraphUsersClient implements UsersClient {
  constructor(private readonly core: GraphCall) {}

  async findUsers(attribute: MatchingAttribute, value: string, select: string[], max: number): Promise<GraphUser[]> {
    // OData string literal: a single quote is written twice.
    const filter = `${attribute} eq '${value.replaceAll("'", "''")}'`;
    const page = (await this.core.send('find-user', 'read', 'GET', '/users', '$select=x&$top=n', () =>
      this.core.graph.api('/users').filter(filter).select(select.join(',')).top(max).get(),
    )) as { value: GraphUser[] };
    return page.value;
  }

  async directoryRolesOf(id: string): Promise<string[]> {
    // The OData cast keeps groups out; $count + ConsistencyLevel make it an advanced query, which the cast on
    // directory-object collections may need (user-list-transitivememberof).
    const page = (await this.core.send(
      'directory-roles-of',
      'read',
      'GET',
      '/users/id/transitiveMemberOf/microsoft.graph.directoryRole',
      '$select=x&$count=true',
      () =>
        this.core.graph
          .api(`/users/${encodeURIComponent(id)}/transitiveMemberOf/microsoft.graph.directoryRole`)
          .header('ConsistencyLevel', 'eventual')
          .query({ $count: 'true' })
          .select('id,displayName')
          .top(999)
          .get(),
    )) as { value: { id: string; displayName?: string | null }[] };
    // Without RoleManagement.Read.Directory (or Directory.Read.All) Graph answers roles with limited information:
    // the id, no name.
    return page.value.map(
      (r) => r.displayName ?? `role ${r.id} (name not readable without RoleManagement.Read.Directory)`,
    );
  }

  async managerOf(id: string): Promise<string | undefined> {
    try {
      const manager = (await this.core.send('get-manager', 'read', 'GET', '/users/id/manager', '$select=id', () =>
        this.core.graph
          .api(`/users/${encodeURIComponent(id)}/manager`)
          .select('id')
          .get(),
      )) as { id: string };
      return manager.id;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  async setManager(id: string, managerId: string): Promise<void> {
    const body = { '@odata.id': `${this.core.graphBase}/users/${managerId}` };
    if (this.core.dryRun) return this.core.plan('PUT', `/users/${id}/manager/$ref`, body);
    await this.core.send('set-manager', 'write', 'PUT', '/users/id/manager/$ref', '', () =>
      this.core.graph.api(`/users/${encodeURIComponent(id)}/manager/$ref`).put(body),
    );
  }

  async deletedUserPrincipalNames(): Promise<string[]> {
    const names: string[] = [];
    let link: string | undefined;
    do {
      const page = (await this.core.send('deleted-users', 'read', 'GET', '/directory/deletedItems/user', '', () =>
        (link
          ? this.core.graph.api(link)
          : this.core.graph.api('/directory/deletedItems/microsoft.graph.user').select('id,userPrincipalName').top(999)
        ).get(),
      )) as { value: GraphUser[]; '@odata.nextLink'?: string };
      for (const u of page.value) if (u.userPrincipalName) names.push(u.userPrincipalName);
      link = page['@odata.nextLink'];
    } while (link);
    return names;
  }

  async getUser(id: string, select: string[]): Promise<GraphUser | undefined> {
    try {
      return (await this.core.send('get-user', 'read', 'GET', '/users/id', '$select=x', () =>
        this.core.graph
          .api(`/users/${encodeURIComponent(id)}`)
          .select(select.join(','))
          .get(),
      )) as GraphUser;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  async createUser(body: Record<string, unknown>): Promise<GraphUser> {
    if (this.core.dryRun) {
      this.core.plan('POST', '/users', body);
      const { passwordProfile: _p, ...visible } = body;
      return { ...visible, id: `planned-${crypto.randomUUID()}` };
    }
    return (await this.core.send('create-user', 'write', 'POST', '/users', '', () =>
      this.core.graph.api('/users').post(body),
    )) as GraphUser;
  }

  async updateUser(id: string, patch: Record<string, unknown>): Promise<void> {
    if (this.core.dryRun) return this.core.plan('PATCH', `/users/${id}`, patch);
    await this.core.send('update-user', 'write', 'PATCH', '/users/id', '', () =>
      this.core.graph.api(`/users/${encodeURIComponent(id)}`).patch(patch),
    );
  }

  async deleteUser(id: string): Promise<void> {
    if (this.core.dryRun) return this.core.plan('DELETE', `/users/${id}`);
    await this.core.send('delete-user', 'write', 'DELETE', '/users/id', '', () =>
      this.core.graph.api(`/users/${encodeURIComponent(id)}`).delete(),
    );
  }

  async restoreDeletedUser(id: string, select: string[]): Promise<GraphUser | undefined> {
    if (this.core.dryRun) {
      this.core.plan('POST', `/directory/deletedItems/${id}/restore`);
      return undefined;
    }
    let restored: GraphUser;
    try {
      restored = (await this.core.send('restore-user', 'write', 'POST', '/directory/deletedItems/id/restore', '', () =>
        this.core.graph.api(`/directory/deletedItems/${encodeURIComponent(id)}/restore`).post({}),
      )) as GraphUser;
    } catch (error) {
      if (error instanceof AppError && error.kind === 'not-found') return undefined;
      throw error;
    }
    // Read it back with the properties the caller compares; right after the restore a read may still miss it
    // (eventual consistency), and the restore's own answer then stands in.
    return (await this.getUser(id, select)) ?? restored;
  }

  async usersDeltaPage(select: string[], link?: string): Promise<UserPage> {
    const { value, ...links } = await deltaPage<UserPage['users'][number]>(
      this.core,
      'users-delta',
      '/users/delta',
      select,
      link,
    );
    return { users: value, ...links };
  }

  async usersPage(select: string[], nextLink?: string): Promise<UserPage> {
    const page = (await this.core.send('list-users', 'read', 'GET', '/users', '$select=x&$top=999', () =>
      (nextLink
        ? this.core.graph.api(nextLink)
        : this.core.graph.api('/users').select(select.join(',')).top(999)
      ).get(),
    )) as GraphPage;
    return pageOf(page);
  }
}

type GraphPage = { value: UserPage['users']; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
const pageOf = (p: GraphPage): UserPage => ({
  users: p.value,
  ...(p['@odata.nextLink'] ? { nextLink: p['@odata.nextLink'] } : {}),
  ...(p['@odata.deltaLink'] ? { deltaLink: p['@odata.deltaLink'] } : {}),
});
