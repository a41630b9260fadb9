import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../dev/paths.js';
import { render, SCHEMA_FILES } from '../../../scripts/generate-schemas.js';
import { changeSchema } from '../../../shared/domain/change.js';

describe('the change contract', () => {
  it.each(Object.entries(SCHEMA_FILES))(
    '%s is the checked-in JSON Schema of the zod contract (run `npm run schemas` after changing it)',
    (file, build) => {
      expect(readFileSync(join(REPO_ROOT, file), 'utf8')).toBe(render(build()));
    },
  );

  it('accepts a full change and normalises the connection id', () => {
    const parsed = changeSchema.parse({
      type: 'upsert',
      connectionId: 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE',
      externalId: 'emp/42#x',
      version: 3,
      occurredAt: '2026-11-23T10:00:00+01:00',
      attributes: { userName: 'zoe', active: true, businessPhone: ['+1 555'], manager: null, custom_1: 7 },
      licenses: ['ENTERPRISEPACK', { sku: 'SPE_E3', disabledPlans: ['TEAMS1'] }],
    });
    expect(parsed.connectionId).toBe('aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
  });

  it.each([
    [{ type: 'rename' }, 'type'],
    [{ version: 0 }, 'version'],
    [{ version: 1.5 }, 'version'],
    [{ externalId: '' }, 'externalId'],
    [{ externalId: 'tab\there' }, 'externalId'],
    [{ connectionId: 'nope' }, 'connectionId'],
    [{ attributes: { nested: { a: 1 } } }, 'attributes.nested'],
    [{ occurredAt: 'yesterday' }, 'occurredAt'],
    [{ surprise: 1 }, ''],
  ])('rejects %j at %s', (override, path) => {
    const result = changeSchema.safeParse({
      type: 'upsert',
      connectionId: 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee',
      externalId: 'e1',
      version: 1,
      ...override,
    });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
