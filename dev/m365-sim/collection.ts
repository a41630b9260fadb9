// An in-memory directory collection with the indexes Graph lookups need. Lists page over an array kept
// in creation order (`seq`), so a `$skiptoken` cursor is a sequence number found by binary search: paging
// stays stable while other writes happen and no request scans the whole tenant.

export interface DirectoryRecord {
  /** Creation order; the paging cursor. Restored objects keep their original seq. */
  readonly seq: number;
  readonly id: string;
  /** Stored Graph properties (id included). */
  data: Record<string, unknown>;
  /** Eventual consistency: lists and filters do not see the object before this simulated time. */
  visibleAt: number;
}

export interface IndexSpec {
  property: string;
  /** Unique values are enforced by the handlers (ObjectConflict); the index only answers lookups. */
  caseInsensitive: boolean;
}

export class IndexedCollection<R extends DirectoryRecord> {
  private readonly byId = new Map<string, R>();
  private readonly ordered: R[] = [];
  private readonly indexes = new Map<string, { spec: IndexSpec; map: Map<string, Set<string>> }>();

  constructor(specs: IndexSpec[]) {
    for (const spec of specs) this.indexes.set(spec.property, { spec, map: new Map() });
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): R | undefined {
    return this.byId.get(id.toLowerCase());
  }

  isIndexed(property: string): boolean {
    return property === 'id' || this.indexes.has(property);
  }

  /** Records whose indexed `property` equals `value` (Graph compares these case-insensitively where noted). */
  findBy(property: string, value: unknown): R[] {
    if (typeof value !== 'string') return [];
    if (property === 'id') {
      const rec = this.get(value);
      return rec ? [rec] : [];
    }
    const index = this.indexes.get(property);
    if (!index) throw new Error(`property ${property} is not indexed`);
    const ids = index.map.get(index.spec.caseInsensitive ? value.toLowerCase() : value);
    if (!ids) return [];
    return [...ids].map((id) => this.byId.get(id)!).sort((a, b) => a.seq - b.seq);
  }

  insert(rec: R): void {
    this.byId.set(rec.id.toLowerCase(), rec);
    const last = this.ordered[this.ordered.length - 1];
    if (!last || last.seq < rec.seq) this.ordered.push(rec);
    else this.ordered.splice(this.firstIndexAfter(rec.seq - 1), 0, rec);
    this.indexValues(rec, 'add');
  }

  remove(id: string): R | undefined {
    const rec = this.get(id);
    if (!rec) return undefined;
    this.byId.delete(rec.id.toLowerCase());
    this.ordered.splice(this.firstIndexAfter(rec.seq - 1), 1);
    this.indexValues(rec, 'delete');
    return rec;
  }

  /** Applies a change to the stored properties, keeping the indexes in step. */
  update(rec: R, changes: Record<string, unknown>): void {
    this.indexValues(rec, 'delete');
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete rec.data[key];
      else rec.data[key] = value;
    }
    this.indexValues(rec, 'add');
  }

  /**
   * Up to `limit` records after cursor `afterSeq` that satisfy `accept`. `more` tells whether another page
   * exists; its cursor is the seq of the last record returned.
   */
  page(afterSeq: number, limit: number, accept: (rec: R) => boolean): { items: R[]; more: boolean } {
    const items: R[] = [];
    for (let i = this.firstIndexAfter(afterSeq); i < this.ordered.length; i++) {
      const rec = this.ordered[i]!;
      if (!accept(rec)) continue;
      if (items.length === limit) return { items, more: true };
      items.push(rec);
    }
    return { items, more: false };
  }

  /** All records in creation order (for seeding and controls, never per Graph request). */
  all(): readonly R[] {
    return this.ordered;
  }

  private firstIndexAfter(seq: number): number {
    let lo = 0;
    let hi = this.ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ordered[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private indexValues(rec: R, op: 'add' | 'delete'): void {
    for (const { spec, map } of this.indexes.values()) {
      const raw = rec.data[spec.property];
      const values = Array.isArray(raw) ? raw : [raw];
      for (const value of values) {
        if (typeof value !== 'string' || value === '') continue;
        const key = spec.caseInsensitive ? value.toLowerCase() : value;
        let ids = map.get(key);
        if (op === 'add') {
          if (!ids) map.set(key, (ids = new Set()));
          ids.add(rec.id.toLowerCase());
        } else if (ids) {
          ids.delete(rec.id.toLowerCase());
          if (ids.size === 0) map.delete(key);
        }
      }
    }
  }
}
