// What a paused full round remembers of the accounts it has already seen. A full round judges a linked account
// deleted in Microsoft 365 when no page returned it, so a "seen" mark per linked user must outlive a pause; but
// the directory side is read again when the run continues, and an operation may have linked or unlinked a user
// meanwhile. The marks are kept per bucket of about BUCKET linked users (by a hash of the object id), each with its
// member count and a checksum of its members: a bucket whose members did not change gets its marks back exactly;
// the users of one that changed stay unconfirmed — not judged deleted by this round (the run says how many; the
// next full round judges them). About 0.4 characters per linked user: 100,000 pack into some 42,000 characters.
const BUCKET = 32;

/** FNV-1a, 32 bits. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export interface SeenMark {
  seen: boolean;
  /** Its bucket changed during the pause: whether a page before the pause returned it is not known. */
  unconfirmed?: boolean;
}

/** The entries (by object id) grouped into `count` buckets, each sorted. */
function bucketsOf(ids: Iterable<string>, count: number): string[][] {
  const buckets: string[][] = Array.from({ length: count }, () => []);
  for (const id of ids) buckets[fnv1a(id) % count]!.push(id);
  for (const b of buckets) b.sort();
  return buckets;
}

/** Packs the seen marks of the linked users (by object id) as base64url. */
export function packSeen(linked: ReadonlyMap<string, SeenMark>): string {
  const buckets = bucketsOf(linked.keys(), Math.max(1, Math.ceil(linked.size / BUCKET)));
  const parts: Buffer[] = [Buffer.alloc(4)];
  parts[0]!.writeUInt32BE(buckets.length);
  for (const members of buckets) {
    const part = Buffer.alloc(6 + Math.ceil(members.length / 8));
    part.writeUInt16BE(Math.min(members.length, 0xffff), 0);
    part.writeUInt32BE(fnv1a(members.join('\n')), 2);
    members.forEach((id, i) => {
      const mark = linked.get(id)!;
      // An unconfirmed user (from an earlier pause) counts as seen: it is not judged either way this round.
      if (mark.seen || mark.unconfirmed) part[6 + (i >> 3)]! |= 1 << (i & 7);
    });
    parts.push(part);
  }
  return Buffer.concat(parts).toString('base64url');
}

/** Restores the marks packed before a pause onto the linked users read again; answers how many stay unconfirmed. */
export function unpackSeen(packed: string, linked: ReadonlyMap<string, SeenMark>): number {
  const data = Buffer.from(packed, 'base64url');
  const count = data.length >= 4 ? data.readUInt32BE(0) : 0;
  let unconfirmed = 0;
  const unknown = (members: string[]) => {
    for (const id of members) linked.get(id)!.unconfirmed = true;
    unconfirmed += members.length;
  };
  if (count === 0) {
    unknown([...linked.keys()]);
    return unconfirmed;
  }
  let offset = 4;
  for (const members of bucketsOf(linked.keys(), count)) {
    if (offset + 6 > data.length) {
      unknown(members);
      continue;
    }
    const size = data.readUInt16BE(offset);
    const checksum = data.readUInt32BE(offset + 2);
    const bits = offset + 6;
    offset = bits + Math.ceil(size / 8);
    if (size !== members.length || checksum !== fnv1a(members.join('\n')) || offset > data.length) {
      unknown(members);
      continue;
    }
    members.forEach((id, i) => {
      if (data[bits + (i >> 3)]! & (1 << (i & 7))) linked.get(id)!.seen = true;
    });
  }
  return unconfirmed;
}
