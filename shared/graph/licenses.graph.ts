// Licences: the tenant's subscribed SKUs (seat counts, cached briefly per connection) and assignLicense.
import type { LicensesClient, SubscribedSku } from '../provisioning/ports.js';
import type { GraphCall } from './graph-client.js';

/** Seat counts are read at most this often per connection. */
const SKU_CACHE_MS = 60_000;

export type SkuCache = Map<string, { at: number; skus: Promise<SubscribedSku[]> }>;

export class GraphLicensesClient implements LicensesClient {
  constructor(
    private readonly core: GraphCall,
    private readonly skuCache: SkuCache,
  ) {}

  async assignLicenses(id: string, add: { skuId: string; disabledPlans: string[] }[], remove: string[]): Promise<void> {
    const body = { addLicenses: add, removeLicenses: remove };
    if (this.core.dryRun) return this.core.plan('POST', `/users/${id}/assignLicense`, body);
    try {
      await this.core.send('assign-license', 'write', 'POST', '/users/id/assignLicense', '', () =>
        this.core.graph.api(`/users/${encodeURIComponent(id)}/assignLicense`).post(body),
      );
    } finally {
      // Seat counts just changed (or were wrong): read them again next time.
      this.skuCache.delete(this.core.connection.id);
    }
  }

  subscribedSkus(fresh = false): Promise<SubscribedSku[]> {
    const key = this.core.connection.id;
    const cached = this.skuCache.get(key);
    if (!fresh && cached && Date.now() - cached.at < SKU_CACHE_MS) return cached.skus;
    const skus = this.core
      .send('read-subscribed-skus', 'read', 'GET', '/subscribedSkus', '', () =>
        this.core.graph.api('/subscribedSkus').get(),
      )
      .then((r) =>
        (
          r as {
            value: {
              skuId: string;
              skuPartNumber: string;
              prepaidUnits?: { enabled?: number };
              consumedUnits?: number;
              servicePlans?: SubscribedSku['servicePlans'];
            }[];
          }
        ).value.map((x) => ({
          skuId: x.skuId.toLowerCase(),
          skuPartNumber: x.skuPartNumber,
          enabled: x.prepaidUnits?.enabled ?? 0,
          consumed: x.consumedUnits ?? 0,
          servicePlans: x.servicePlans ?? [],
        })),
      );
    this.skuCache.set(key, { at: Date.now(), skus });
    skus.catch(() => this.skuCache.delete(key));
    return skus;
  }
}
