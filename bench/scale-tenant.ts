// What the scale benchmarks (reconcile, import) start from: Azurite with bench/azurite-seed-preload.mjs (fast
// inserts while seeding, stock Azurite once told), the simulated tenant as a process of its own with N generated
// users (prefix `bench`), a ready connection to it made through the app's use cases in this process, a Graph
// client as Contoso's admin app, and the generated accounts as listed from Graph.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@microsoft/microsoft-graph-client';
import { type RunningAzurite, startAzurite } from '../dev/azurite.js';
import { REPO_ROOT } from '../dev/paths.js';
import type { ConnectionView } from '../shared/domain/connection.js';
import { generateEncryptionKeyEntry } from '../shared/security/secret-cipher.js';
import {
  contosoConnection,
  credentialForAuthority,
  DEFAULT_SEED,
  graphClientForBaseUrl,
  type SimControls,
  simControls,
} from '../test/support/simulated-tenant.js';
import { type ReadyProcess, spawnReady } from '../test/support/spawn-ready.js';

export const PREFIX = 'bench';

export interface TenantUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  givenName: string;
  surname: string;
  mail: string;
  mailNickname: string;
  employeeId: string;
}

export interface ScaleTenant {
  azurite: RunningAzurite;
  azuritePid: number | undefined;
  sim: ReadyProcess<{ graphBaseUrl: string; authorityHost: string }>;
  controls: SimControls;
  encryptionKeys: string;
  conn: ConnectionView;
  graph: Client;
  /** The generated accounts, in Graph's order. */
  accounts: TenantUser[];
  /** The tenant's other (seeded) accounts. */
  otherAccounts: number;
  stop(): Promise<void>;
}

/** Starts Azurite and the simulated tenant with `users` generated users and a ready connection named `name`. */
export async function startScaleTenant(users: number, name: string): Promise<ScaleTenant> {
  const { contoso } = DEFAULT_SEED;
  const encryptionKeys = generateEncryptionKeyEntry('bench');
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS =
    `${nodeOptions ?? ''} --import=${pathToFileURL(join(REPO_ROOT, 'bench', 'azurite-seed-preload.mjs')).href}`.trim();
  const azurite = await startAzurite().finally(() => {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  });
  const sim = await spawnReady<{ graphBaseUrl: string; authorityHost: string }>('dev/m365-sim/main.ts', {});
  const stop = async () => {
    await sim.stop();
    await azurite.stop();
  };
  try {
    const controls = simControls(sim.ready.graphBaseUrl);
    // The app's composition root, in this process for the set-up (what is measured gets its own process).
    process.env.AzureWebJobsStorage = azurite.connectionString;
    process.env.SECRETS_ENCRYPTION_KEYS = encryptionKeys;
    const { services } = await import('../functions/services.js');
    const { createConnection } = await import('../shared/provisioning/connections.js');
    const { testConnection } = await import('../shared/provisioning/test-connection.js');
    const app = services();

    // Throttling off while the bench itself writes to the tenant.
    console.error(`seeding ${users} users in the simulated tenant…`);
    await controls.settings({ throttling: false });
    await controls.generateUsers(contoso.tenantId, users, PREFIX);
    const { value: conn } = await createConnection(
      app,
      { ...contosoConnection(sim.ready, name), authMode: 'client_credentials', cloud: 'global' },
      { type: 'function-key' },
    );
    const tested = await testConnection(app, conn.id);
    if (tested.status !== 'ready') throw new Error(`connection not ready: ${JSON.stringify(tested)}`);
    const graph = graphClientForBaseUrl(
      sim.ready.graphBaseUrl,
      credentialForAuthority(
        sim.ready.authorityHost,
        contoso.tenantId,
        contoso.fullApp.clientId,
        contoso.fullApp.secret,
      ),
    );
    const accounts: TenantUser[] = [];
    let otherAccounts = 0;
    let next: string | undefined =
      '/users?$top=999&$select=id,userPrincipalName,displayName,givenName,surname,mail,mailNickname,employeeId';
    while (next) {
      const page = (await graph.api(next).get()) as { value: TenantUser[]; '@odata.nextLink'?: string };
      for (const u of page.value) {
        if (u.userPrincipalName.startsWith(PREFIX)) accounts.push(u);
        else otherAccounts++;
      }
      next = page['@odata.nextLink'];
    }
    if (accounts.length !== users) throw new Error(`expected ${users} generated accounts, listed ${accounts.length}`);
    return {
      azurite,
      azuritePid: azuritePid(),
      sim,
      controls,
      encryptionKeys,
      conn,
      graph,
      accounts,
      otherAccounts,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Azurite's process: the child of this one whose command line runs azurite.js (dev/azurite.ts does not expose it). */
function azuritePid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('azurite'))
        return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
