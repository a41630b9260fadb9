// The azd preprovision hook (infra/hooks/ensure-encryption-key.mjs), run as azd runs it — `node <hook>` with
// the azd environment's values as environment variables — with a stand-in `azd` on PATH that records its
// arguments. Local processes only.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../dev/paths.js';
import { generateEncryptionKeyEntry, parseEncryptionKeys } from '../../shared/security/secret-cipher.js';

const HOOK = join(REPO_ROOT, 'infra', 'hooks', 'ensure-encryption-key.mjs');
const bin = mkdtempSync(join(tmpdir(), 'fake-azd-'));
const azdLog = join(bin, 'azd.log');
writeFileSync(join(bin, 'azd'), '#!/bin/sh\nprintf "%s\\n" "$@" > "$AZD_LOG"\n');
chmodSync(join(bin, 'azd'), 0o755);
afterAll(() => rmSync(bin, { recursive: true, force: true }));

function runHook(env: Record<string, string>) {
  rmSync(azdLog, { force: true });
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => k !== 'SECRETS_ENCRYPTION_KEYS' && k !== 'AZURE_KEY_VAULT_NAME'),
  );
  const result = spawnSync(process.execPath, [HOOK], {
    env: {
      ...inherited,
      PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
      AZD_LOG: azdLog,
      AZURE_ENV_NAME: 'test',
      ...env,
    },
    encoding: 'utf8',
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    azdArgs: existsSync(azdLog) ? readFileSync(azdLog, 'utf8').trim().split('\n') : undefined,
  };
}

describe('preprovision hook: SECRETS_ENCRYPTION_KEYS', () => {
  it('makes a 32-byte key on the first provision and saves it with `azd env set`', () => {
    const run = runHook({});
    expect(run.status).toBe(0);
    expect(run.azdArgs?.slice(0, 3)).toEqual(['env', 'set', 'SECRETS_ENCRYPTION_KEYS']);
    const [key] = parseEncryptionKeys(run.azdArgs![3]!);
    expect(key!.key).toHaveLength(32);
    expect(key!.id).toMatch(/^k\d{8}$/);
    expect(run.stdout).not.toContain(run.azdArgs![3]!.split(':')[1]); // the key itself is not printed
    expect(runHook({}).azdArgs![3]).not.toBe(run.azdArgs![3]); // random each time
  });

  it('keeps a key the environment has', () => {
    const run = runHook({
      SECRETS_ENCRYPTION_KEYS: `${generateEncryptionKeyEntry('new')},${generateEncryptionKeyEntry('old')}`,
    });
    expect(run.status).toBe(0);
    expect(run.azdArgs).toBeUndefined();
  });

  it('makes no new key for an environment provisioned before (Key Vault keeps its key)', () => {
    const run = runHook({ AZURE_KEY_VAULT_NAME: 'kvm365provabc' });
    expect(run.status).toBe(0);
    expect(run.azdArgs).toBeUndefined();
    expect(run.stdout).toContain('keeping the key already in Key Vault kvm365provabc');
  });

  it.each([
    ['k1:c2hvcnQ='],
    ['no-colon'],
    [`bad id!:${Buffer.alloc(32).toString('base64')}`],
    [`${generateEncryptionKeyEntry('same')},${generateEncryptionKeyEntry('same')}`],
    [generateEncryptionKeyEntry('k1')],
    [` ${generateEncryptionKeyEntry('a')} , ${generateEncryptionKeyEntry('b')} `],
  ])('accepts exactly what the app accepts: %s', (value) => {
    let appAccepts = true;
    try {
      parseEncryptionKeys(value);
    } catch {
      appAccepts = false;
    }
    const run = runHook({ SECRETS_ENCRYPTION_KEYS: value });
    expect(run.status === 0).toBe(appAccepts);
    expect(run.azdArgs).toBeUndefined();
    if (!appAccepts) expect(run.stderr).toMatch(/SECRETS_ENCRYPTION_KEYS in this azd environment is malformed/);
  });

  it('fails when `azd env set` fails', () => {
    writeFileSync(join(bin, 'azd'), '#!/bin/sh\nexit 3\n');
    try {
      const run = runHook({});
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(/Could not save a new SECRETS_ENCRYPTION_KEYS with `azd env set` \(exit code 3\)/);
    } finally {
      writeFileSync(join(bin, 'azd'), '#!/bin/sh\nprintf "%s\\n" "$@" > "$AZD_LOG"\n');
    }
  });
});
