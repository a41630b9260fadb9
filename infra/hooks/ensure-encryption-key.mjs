// azd preprovision hook: makes sure the azd environment has SECRETS_ENCRYPTION_KEYS before Bicep runs
// (infra/main.parameters.json passes it to Key Vault). azd hands hooks the environment's values as
// environment variables.
//
// - Set already: checked (keyId:base64 entries of 32-byte keys, as shared/security/secret-cipher.ts parses
//   them) and kept.
// - Not set, and this environment was provisioned before (AZURE_KEY_VAULT_NAME is known): nothing is made;
//   Bicep then leaves the secret in Key Vault as it is. A new key would make the stored secrets unreadable.
// - Not set, first provision: 32 random bytes from Node's CSPRNG, saved with `azd env set`.
//
// Plain Node (no dependencies): it runs before `npm install` on a fresh clone.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const NAME = 'SECRETS_ENCRYPTION_KEYS';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** The problem with a SECRETS_ENCRYPTION_KEYS value, or undefined when it is well formed. */
export function problemWith(value) {
  const ids = new Set();
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return 'must list at least one key as keyId:base64key';
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    if (colon <= 0) return 'entries must be keyId:base64key';
    const id = entry.slice(0, colon);
    const key = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) return `key id "${id}" must be 1-32 letters, digits, "_" or "-"`;
    if (ids.has(id)) return 'key ids must be unique';
    ids.add(id);
    if (Buffer.from(key, 'base64').length !== 32) return `key "${id}" must be 32 bytes, base64-encoded`;
  }
  return undefined;
}

export function newKeyEntry(now = new Date()) {
  const id = `k${now.toISOString().slice(0, 10).replaceAll('-', '')}`;
  return `${id}:${randomBytes(32).toString('base64')}`;
}

function main() {
  const current = process.env[NAME]?.trim();
  if (current) {
    const problem = problemWith(current);
    if (problem) {
      console.error(
        `${NAME} in this azd environment is malformed: ${problem}. Fix it with: azd env set ${NAME} "<keyId>:<base64 of 32 random bytes>"`,
      );
      process.exit(1);
    }
    console.log(`${NAME}: using the key(s) of this azd environment.`);
    return;
  }
  if (process.env.AZURE_KEY_VAULT_NAME) {
    console.log(
      `${NAME} is not in this azd environment, which was provisioned before: keeping the key already in Key Vault ` +
        `${process.env.AZURE_KEY_VAULT_NAME} (secret secrets-encryption-keys). To rotate, see README "Deploy to Azure".`,
    );
    return;
  }
  const result = spawnSync('azd', ['env', 'set', NAME, newKeyEntry()], {
    stdio: ['ignore', 'inherit', 'inherit'],
    shell: process.platform === 'win32',
  });
  if (result.status !== 0) {
    console.error(
      `Could not save a new ${NAME} with \`azd env set\` (${result.error?.message ?? `exit code ${result.status}`}).`,
    );
    process.exit(1);
  }
  console.log(
    `${NAME}: made a new 256-bit key and saved it in this azd environment (.azure/${process.env.AZURE_ENV_NAME ?? '<env>'}/.env); provisioning stores it in Key Vault.`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
