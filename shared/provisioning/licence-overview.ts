// The Licences screen: the tenant's subscriptions with seats used and free, and the users whose licences this
// connection assigned (directly: ownedLicenses; licences a licence group gives are the group's, see licence-groups).
import type { ApplyDeps } from './apply-operation.js';
import { loadConnection } from './connections.js';
import { tenantGateway } from './tenant.js';

/** Users listed at most (the count covers all). */
const MAX_LISTED = 1_000;

export interface LicenceOverview {
  skus: { skuId: string; skuPartNumber: string; enabled: number; consumed: number; free: number }[];
  licensedUsers: {
    externalId: string;
    userPrincipalName: string | null;
    skus: { skuId: string; skuPartNumber: string | null }[];
  }[];
  licensedUserCount: number;
}

export async function licenceOverview(deps: ApplyDeps, connectionId: string): Promise<LicenceOverview> {
  const connection = await loadConnection(deps, connectionId);
  const skus = await tenantGateway(deps, connection, {}).licenses.subscribedSkus(true);
  const partNumber = new Map(skus.map((s) => [s.skuId, s.skuPartNumber]));
  const licensedUsers: LicenceOverview['licensedUsers'] = [];
  let licensedUserCount = 0;
  for await (const page of deps.users.scan(connectionId))
    for (const user of page) {
      if (user.ownedLicenses.length === 0) continue;
      licensedUserCount++;
      if (licensedUsers.length < MAX_LISTED)
        licensedUsers.push({
          externalId: user.externalId,
          userPrincipalName: user.userPrincipalName ?? null,
          skus: user.ownedLicenses.map((skuId) => ({ skuId, skuPartNumber: partNumber.get(skuId) ?? null })),
        });
    }
  return {
    skus: skus.map((s) => ({
      skuId: s.skuId,
      skuPartNumber: s.skuPartNumber,
      enabled: s.enabled,
      consumed: s.consumed,
      free: Math.max(0, s.enabled - s.consumed),
    })),
    licensedUsers,
    licensedUserCount,
  };
}
