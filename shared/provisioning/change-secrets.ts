// Attributes that are secrets (a password sent for the new account) must not sit in Table Storage as plain
// text: in the stored desired state and held changes they are sealed with the app's secret cipher, bound to
// the user, and opened only when the change runs again.
import type { OperationMessage } from '../domain/change.js';
import type { SecretProtector } from './ports.js';

const SEALED_PREFIX = 'sealed:';
const isSecretAttribute = (name: string) => /password|secret/i.test(name);
const aad = (m: OperationMessage, name: string) => `user:${m.connectionId}:${m.externalId}:attribute:${name}`;

function transform(m: OperationMessage, fn: (name: string, value: string) => string): OperationMessage {
  if (!m.attributes) return m;
  const attributes = Object.fromEntries(
    Object.entries(m.attributes).map(([name, value]) => [name, isSecretAttribute(name) && typeof value === 'string' ? fn(name, value) : value]),
  );
  return { ...m, attributes };
}

export const sealSecrets = (secrets: SecretProtector, m: OperationMessage) =>
  transform(m, (name, value) => (value.startsWith(SEALED_PREFIX) ? value : `${SEALED_PREFIX}${secrets.encrypt(value, aad(m, name))}`));

export const openSecrets = (secrets: SecretProtector, m: OperationMessage) =>
  transform(m, (name, value) => (value.startsWith(SEALED_PREFIX) ? secrets.decrypt(value.slice(SEALED_PREFIX.length), aad(m, name)) : value));

/** For API views: secret attributes are shown as set, never as a value. */
export const hideSecrets = (m: OperationMessage): OperationMessage => transform(m, () => '[set]');
