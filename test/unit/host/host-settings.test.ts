import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applyLocalSettings,
  parseHostJson,
  parseTimeSpan,
  readHostJson,
  resolveAppSettingRefs,
} from '../../../dev/host/host-settings.js';
import { REPO_ROOT } from '../../../dev/paths.js';

describe('host.json', () => {
  it('parses TimeSpan durations the way host.json writes them', () => {
    expect(parseTimeSpan('00:00:02')).toBe(2000);
    expect(parseTimeSpan('00:01:00')).toBe(60_000);
    expect(parseTimeSpan('1.02:00:00')).toBe(26 * 3600_000);
    expect(parseTimeSpan('00:00:00.250')).toBe(250);
    expect(() => parseTimeSpan('2s')).toThrow(/not a TimeSpan/);
  });

  it('applies the documented queue defaults, with newBatchThreshold = batchSize / 2', () => {
    expect(parseHostJson({ version: '2.0' })).toEqual({
      routePrefix: 'api',
      queues: {
        maxPollingInterval: 60_000,
        visibilityTimeout: 0,
        batchSize: 16,
        newBatchThreshold: 8,
        maxDequeueCount: 5,
        messageEncoding: 'base64',
      },
    });
  });

  it('rejects settings the host would reject, naming them', () => {
    expect(() => parseHostJson({ version: '2.0', extensions: { queues: { batchSize: 64 } } })).toThrow(
      /extensions\.queues\.batchSize/,
    );
    expect(() => parseHostJson({ version: '1.0' })).toThrow(/version/);
  });

  it('reads the committed host.json, which spells out every queue setting', () => {
    const settings = readHostJson(join(REPO_ROOT, 'host.json'));
    expect(settings.routePrefix).toBe('api');
    expect(settings.queues).toEqual({
      maxPollingInterval: 2000,
      visibilityTimeout: 5000,
      batchSize: 16,
      newBatchThreshold: 8,
      maxDequeueCount: 5,
      messageEncoding: 'base64',
    });
  });
});

describe('local.settings.json', () => {
  it('copies Values into the environment, but a variable already set wins (as func start does)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'local-settings-'));
    const file = join(dir, 'local.settings.json');
    writeFileSync(file, JSON.stringify({ IsEncrypted: false, Values: { A: 'from-file', B: 'from-file', N: 3 } }));
    const env: NodeJS.ProcessEnv = { B: 'from-env' };
    expect(applyLocalSettings(file, env)).toEqual({ applied: ['A', 'N'], skipped: ['B'] });
    expect(env).toEqual({ A: 'from-file', B: 'from-env', N: '3' });
  });

  it('is optional', () => {
    expect(applyLocalSettings('/nonexistent/local.settings.json', {})).toEqual({ applied: [], skipped: [] });
  });
});

describe('%SETTING% binding expressions', () => {
  it('resolves from the environment and names a missing setting', () => {
    expect(resolveAppSettingRefs('%Q%-x', { Q: 'ops' })).toBe('ops-x');
    expect(() => resolveAppSettingRefs('%MISSING%', {})).toThrow(/"MISSING"/);
  });
});
