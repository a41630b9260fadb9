// Attributes that are secrets (a password sent for the new account) must not sit in Table Storage as plain
// text: in a user's stored desired state and last change they are sealed with the app's secret cipher, bound to
// the user, and opened only when the change runs again.
import type { OperationMessage } from '../domain/change.js';
import type { DesiredState } from '../domain/desired-state.js';
import type { SecretProtector } from './ports.js';

const SEALED_PREFIX = 'sealed:';
const isSecretAttribute = (name: string) => /password|secret/i.test(name);

type Attributes = Record<string, unknown>;
type Who = { connectionId: string; externalId: string };
const aad = (who: Who, name: string) => `user:${who.connectionId}:${who.externalId}:attribute:${name}`;

function mapSecrets(attributes: Attributes, fn: (name: string, value: string) => string): Attributes {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      isSecretAttribute(name) && typeof value === 'string' ? fn(name, value) : value,
    ]),
  );
}

const seal = (secrets: SecretProtector, who: Who) => (attributes: Attributes) =>
  mapSecrets(attributes, (name, value) =>
    value.startsWith(SEALED_PREFIX) ? value : `${SEALED_PREFIX}${secrets.encrypt(value, aad(who, name))}`,
  );
const open = (secrets: SecretProtector, who: Who) => (attributes: Attributes) =>
  mapSecrets(attributes, (name, value) =>
    value.startsWith(SEALED_PREFIX) ? secrets.decrypt(value.slice(SEALED_PREFIX.length), aad(who, name)) : value,
  );
const hide = (attributes: Attributes) => mapSecrets(attributes, () => '[set]');

const onMessage =
  (fn: (a: Attributes) => Attributes) =>
  (m: OperationMessage): OperationMessage =>
    m.attributes ? { ...m, attributes: fn(m.attributes) as OperationMessage['attributes'] } : m;
const onDesired =
  (fn: (a: Attributes) => Attributes) =>
  (d: DesiredState): DesiredState =>
    d.profile ? { ...d, profile: { ...d.profile, attributes: fn(d.profile.attributes) } } : d;

export const sealChange = (secrets: SecretProtector, m: OperationMessage) => onMessage(seal(secrets, m))(m);
export const openChange = (secrets: SecretProtector, m: OperationMessage) => onMessage(open(secrets, m))(m);
export const sealDesired = (secrets: SecretProtector, who: Who, d: DesiredState) => onDesired(seal(secrets, who))(d);
export const openDesired = (secrets: SecretProtector, who: Who, d: DesiredState) => onDesired(open(secrets, who))(d);
/** For API views: secret attributes are shown as set, never as a value. */
export const hideDesired = onDesired(hide);
