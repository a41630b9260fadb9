import { randomBytes } from 'node:crypto';

/** A storage-safe unique name (queues: lower-case letters, digits, dashes; 3–63 chars). */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`.toLowerCase();
