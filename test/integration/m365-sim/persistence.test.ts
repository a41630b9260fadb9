// A simulated tenant with a state file (what `npm start` runs): what real clients did before a restart is there
// after it, every field of the directory included, and what cannot be restored is refused when saved, not lost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deserializeSimState, serializeSimState } from '../../../dev/m365-sim/persistence.js';
import { loadDefaultSeed } from '../../../dev/m365-sim/seed.js';
import { DirectoryState } from '../../../dev/m365-sim/state.js';
import { DEFAULT_SEED, startTestTenant } from '../../support/simulated-tenant.js';
import type { JsonBody } from './helpers.js';

const contoso = DEFAULT_SEED.contoso;
const dir = mkdtempSync(join(tmpdir(), 'm365-sim-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The saved document without the moment it was saved. */
const savedContent = (text: string) => ({ ...(JSON.parse(text) as JsonBody), savedAt: undefined });

describe('simulated tenant state file', () => {
  it('brings back users, deleted items, groups, licenses and delta links after a restart', async () => {
    const stateFile = join(dir, 'restart.json');
    const first = await startTestTenant({ stateFile });
    expect(first.state).toEqual({ file: stateFile, restored: false });
    const graph = first.graphClientFor(
      first.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret),
    );
    const created = (await graph.api('/users').post({
      accountEnabled: true,
      displayName: 'Kept Across Restarts',
      mailNickname: 'kept',
      userPrincipalName: `kept@${contoso.domain}`,
      usageLocation: 'DE',
      passwordProfile: { password: 'Initial-Pa55word!' },
    })) as JsonBody;
    await graph.api(`/users/${created.id}/assignLicense`).post({
      addLicenses: [{ skuId: contoso.skus.enterprisePack, disabledPlans: [] }],
      removeLicenses: [],
    });
    await graph.api(`/groups/${contoso.groups.allStaff}/members/$ref`).post({
      '@odata.id': `${first.graphBaseUrl}/v1.0/directoryObjects/${created.id}`,
    });
    await graph.api(`/users/${contoso.users.alex}`).delete();
    let page = (await graph.api('/users/delta').select('displayName').get()) as JsonBody;
    while (page['@odata.nextLink']) page = (await graph.api(page['@odata.nextLink'] as string).get()) as JsonBody;
    const deltaLink = page['@odata.deltaLink'] as string;
    const seatsBefore = await first.controls.skus(contoso.tenantId);
    await first.close();
    const saved = readFileSync(stateFile, 'utf8');

    const second = await startTestTenant({ stateFile });
    try {
      expect(second.state).toEqual({ file: stateFile, restored: true });
      const graph2 = second.graphClientFor(
        second.credentialFor(contoso.tenantId, contoso.fullApp.clientId, contoso.fullApp.secret),
      );
      expect(await second.controls.user(contoso.tenantId, `kept@${contoso.domain}`)).toMatchObject({
        id: created.id,
        displayName: 'Kept Across Restarts',
        deleted: false,
        memberOf: [contoso.groups.allStaff],
      });
      expect(await second.controls.user(contoso.tenantId, contoso.users.alex)).toMatchObject({ deleted: true });
      expect(await second.controls.skus(contoso.tenantId)).toEqual(seatsBefore);
      // The delta link handed out before the restart still works, and sees the change made after it.
      await graph2.api(`/users/${created.id}`).patch({ jobTitle: 'Restarted' });
      const next = (await graph2.api(deltaLink.replace(first.graphBaseUrl, second.graphBaseUrl)).get()) as JsonBody;
      expect((next.value as JsonBody[]).map((u) => u.id)).toEqual([created.id]);
      // A restored user can be restored from deleted items, as before the restart.
      const restored = (await graph2.api(`/directory/deletedItems/${contoso.users.alex}/restore`).post({})) as JsonBody;
      expect(restored.id).toBe(contoso.users.alex);
    } finally {
      await second.close();
    }
    // Loading and saving again gives back the same document: no field of the directory is dropped on the way.
    const reloaded = deserializeSimState(saved);
    const directory = new DirectoryState();
    for (const t of reloaded.tenants) directory.tenants.set(t.id, t);
    expect(savedContent(serializeSimState({ directory, refreshTokens: reloaded.refreshTokens }))).toEqual(
      savedContent(saved),
    );
  });

  it('refuses, naming where, to save a value it could not bring back', () => {
    const directory = new DirectoryState();
    directory.load(loadDefaultSeed(), Date.now());
    const tenant = directory.tenant(contoso.tenantId)!;
    tenant.users.get(contoso.users.adele)!.data.lastSeen = new Date();
    expect(() => serializeSimState({ directory, refreshTokens: new Map() })).toThrow(
      new RegExp(
        `tenant ${contoso.tenantId}\\.users\\[${contoso.users.adele}\\]\\.data\\.lastSeen: a Date cannot be saved`,
      ),
    );
  });
});
