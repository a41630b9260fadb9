// "Test connection" (PingOne's button, Entra's "Test Connection"): can we get a token, does it carry the
// permissions provisioning needs, is the domain verified (and, when it is federated, does the mapping give the
// onPremisesImmutableId Microsoft 365 needs to create its users), can we read users, when does the secret expire.
// The result is stored on the connection and sets its status: ready, or invalid with the reason.
import { type Connection, REQUIRED_PERMISSIONS, type TestCheck, type TestResult } from '../domain/connection.js';
import { isAppError } from '../domain/errors.js';
import { groupLicensingSubscriptions } from '../domain/licenses.js';
import { DEFAULT_MAPPING, mappedProperties } from '../domain/mapping/mapping.js';
import { effectiveSettings } from '../domain/sync-settings.js';
import { type ConnectionDeps, connectionSecrets, loadConnection, rewrapSecrets } from './connections.js';
import type {
  ApplicationSecret,
  ConnectionProbe,
  OperationQueue,
  SubscribedSku,
  TenantGatewayFactory,
  UserStateRepository,
  VerifiedDomain,
} from './ports.js';
import { releaseHeld } from './release-held.js';
import { tenantGateway } from './tenant.js';

export interface TestConnectionDeps extends ConnectionDeps {
  tenants: TenantGatewayFactory;
  /** With these, operations held while the connection was not ready go back on the queue once it is. */
  users?: UserStateRepository;
  groups?: UserStateRepository;
  queue?: OperationQueue;
}

const SECRET_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** Permissions that also satisfy a required one (a broader grant of the same resource). */
const SATISFIED_BY: Record<string, string[]> = { 'Organization.Read.All': ['Organization.ReadWrite.All'] };
/** Permissions GET /domains/{id} accepts (domain-get, "Permissions"); without one, /organization's domain type is used. */
const DOMAIN_READ_PERMISSIONS = ['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All'];

export async function testConnection(
  deps: TestConnectionDeps,
  id: string,
): Promise<TestResult & { status: Connection['status']; releasedOperations?: number }> {
  const connection = await loadConnection(deps, id);
  const secrets = connectionSecrets(deps, connection);
  const gateway = tenantGateway(deps, connection);
  const checks: TestCheck[] = [];
  const failed = (name: string, error: unknown) => checks.push({ name, ok: false, detail: describe(error) });

  let tokenOk = false;
  let canReadDomains = false;
  let permissions: string[] = [];
  let refreshTokenRevoked = false;
  try {
    const token = await gateway.probe.acquireToken();
    tokenOk = true;
    canReadDomains = DOMAIN_READ_PERMISSIONS.some((p) => token.permissions.includes(p));
    permissions = token.permissions;
    checks.push({
      name: 'token',
      ok: true,
      detail: `Obtained an ${token.kind} token (expires ${token.expiresOn.toISOString()})`,
    });
    const missing = REQUIRED_PERMISSIONS.filter(
      (p) => !token.permissions.includes(p) && !(SATISFIED_BY[p] ?? []).some((q) => token.permissions.includes(q)),
    );
    const claim = token.kind === 'app-only' ? 'application permissions (roles)' : 'delegated permissions (scp)';
    checks.push(
      missing.length === 0
        ? { name: 'permissions', ok: true, detail: `Granted ${claim}: ${REQUIRED_PERMISSIONS.join(', ')}` }
        : {
            name: 'permissions',
            ok: false,
            detail: `Missing ${claim}: ${missing.join(', ')}. Add them to the app registration and grant admin consent.`,
          },
    );
  } catch (error) {
    failed('token', error);
    refreshTokenRevoked =
      isAppError(error) &&
      error.code === 'credentials-refused' &&
      error.details.operation === 'oauth-refresh' &&
      error.details.code === 'invalid_grant';
  }

  if (tokenOk) {
    await gateway.probe.verifiedDomains().then(
      async (domains) => checks.push(await domainCheck(gateway.probe, connection, domains, canReadDomains)),
      (error) => failed('verifiedDomain', error),
    );
    await gateway.probe.readOneUser().then(
      () => checks.push({ name: 'readUsers', ok: true, detail: 'Read /users' }),
      (error) => failed('readUsers', error),
    );
    if (effectiveSettings(connection.settings).licensingMode === 'group')
      await gateway.licenses.subscribedSkus(true).then(
        (skus) => checks.push(groupLicensingCheck(permissions, skus)),
        (error) => failed('groupLicensing', error),
      );
    await gateway.probe.applicationSecrets(connection.clientId).then(
      (all) => checks.push(secretExpiryCheck(all, secrets.clientSecret, deps.clock.now())),
      (error) => failed('clientSecretExpiry', error),
    );
  }

  const now = deps.clock.now().toISOString();
  const result: TestResult = { ok: checks.every((c) => c.ok), testedAt: now, checks };
  const firstFailure = checks.find((c) => !c.ok);
  // Testing reads every secret anyway: a good moment to move them to the active key after a rotation.
  const current = rewrapSecrets(deps, await loadConnection(deps, id));
  const saved = await deps.connections.replace({
    ...current,
    lastTest: result,
    // A successful test lifts a quarantine (the admin has looked at it, as in Entra's provisioning service).
    quarantine: result.ok ? undefined : current.quarantine,
    // A revoked or expired refresh token needs a person to consent again, not a configuration fix.
    status: result.ok ? 'ready' : refreshTokenRevoked ? 'needs-attention' : 'invalid',
    statusReason: result.ok
      ? 'Tested successfully.'
      : refreshTokenRevoked
        ? `The stored authorisation was revoked or expired: open GET /api/connections/${id}/authorize to consent again (${firstFailure!.detail})`
        : `Test failed: ${firstFailure!.name}: ${firstFailure!.detail}`,
    updatedAt: now,
  });
  const released =
    saved.status === 'ready' && deps.users && deps.queue
      ? await releaseHeld(
          {
            users: deps.users,
            ...(deps.groups ? { groups: deps.groups } : {}),
            queue: deps.queue,
            secrets: deps.secrets,
          },
          id,
        )
      : 0;
  return {
    ...result,
    status: saved.status,
    ...(released > 0 ? { releasedOperations: released } : {}),
    ...(result.ok && current.quarantine ? { quarantineLifted: true } : {}),
  };
}

/**
 * The connection's domain must be a verified domain of the tenant. A federated one (authentication by the
 * organisation's own identity provider, e.g. AD FS) also needs onPremisesImmutableId on every user Microsoft 365
 * creates (user-post-users): without a mapping rule for it every create would fail, so the check fails now. The
 * domain's type comes from GET /domains/{id} (`authenticationType`) when the app may read domains, else from
 * /organization's verifiedDomains (`type`), which the required Organization.Read.All covers.
 */
async function domainCheck(
  probe: ConnectionProbe,
  connection: Connection,
  domains: VerifiedDomain[],
  canReadDomains: boolean,
): Promise<TestCheck> {
  const domain = connection.domain;
  const verified = domains.find((d) => d.name === domain.toLowerCase());
  if (!verified)
    return {
      name: 'verifiedDomain',
      ok: false,
      detail: `${domain} is not a verified domain of the tenant (verified: ${domains.map((d) => d.name).join(', ') || 'none'})`,
    };
  let type = verified.type;
  let source = '/organization verifiedDomains';
  if (canReadDomains) {
    // A refusal here (e.g. a consent withdrawn meanwhile) leaves the organization's answer in place.
    const authenticationType = await probe.domainAuthenticationType(domain).catch(() => undefined);
    if (authenticationType) [type, source] = [authenticationType, `GET /domains/${domain}`];
  }
  if (type?.toLowerCase() !== 'federated')
    return { name: 'verifiedDomain', ok: true, detail: `${domain} is a verified domain of the tenant` };
  return mappedProperties(connection.mapping ?? DEFAULT_MAPPING, 'create').includes('onPremisesImmutableId')
    ? {
        name: 'verifiedDomain',
        ok: true,
        detail: `${domain} is a verified domain of the tenant; it is federated, and the mapping gives onPremisesImmutableId`,
      }
    : {
        name: 'verifiedDomain',
        ok: false,
        detail: `${domain} is a federated domain (authentication type ${type}, from ${source}): Microsoft 365 creates its users only with an onPremisesImmutableId, and the mapping has no rule for it. Map onPremisesImmutableId (e.g. from the on-premises objectGUID, base64) or use a managed domain.`,
      };
}

/**
 * Which app secret is ours: Graph returns only a hint (the secret's first three characters) for each password
 * credential. When several share our hint we cannot tell them apart, so the earliest expiry is reported (a
 * warning too many beats a connection that stops without one). Warns under 30 days, fails when expired.
 */
function secretExpiryCheck(all: ApplicationSecret[], secret: string, now: Date): TestCheck {
  const dated = all.filter((s) => s.endDateTime);
  const ours = dated.filter((s) => s.hint && secret.startsWith(s.hint));
  if (dated.length === 0)
    return {
      name: 'clientSecretExpiry',
      ok: true,
      warning: true,
      detail: 'The app registration lists no client secret with an expiry date',
    };
  const candidates = ours.length > 0 ? ours : dated;
  const chosen = candidates.reduce((a, b) => (Date.parse(a.endDateTime!) <= Date.parse(b.endDateTime!) ? a : b));
  const expires = new Date(chosen.endDateTime!);
  const days = Math.floor((expires.getTime() - now.getTime()) / DAY_MS);
  const name = chosen.displayName ? ` "${chosen.displayName}"` : '';
  const which =
    ours.length === 1
      ? `The client secret${name}`
      : ours.length > 1
        ? `Of ${ours.length} client secrets sharing the configured one's first characters, the earliest-expiring${name}`
        : `No client secret matches the configured one; the earliest-expiring${name}`;
  if (days < 0)
    return {
      name: 'clientSecretExpiry',
      ok: false,
      detail: `${which} expired on ${expires.toISOString()}: create a new secret and update the connection`,
    };
  if (days < SECRET_WARNING_DAYS)
    return {
      name: 'clientSecretExpiry',
      ok: true,
      warning: true,
      detail: `${which} expires in ${days} days (${expires.toISOString()}): rotate it soon`,
    };
  return {
    name: 'clientSecretExpiry',
    ok: true,
    detail: `${which} expires in ${days} days (${expires.toISOString()})`,
  };
}

function describe(error: unknown): string {
  if (isAppError(error)) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Permissions that let an app create security groups (group-post-groups). */
const GROUP_CREATE_PERMISSIONS = ['Group.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
/** Permissions that let an app assign licences to a group (group-assignlicense). */
const GROUP_LICENSE_PERMISSIONS = ['LicenseAssignment.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];

/**
 * licensingMode group: can this tenant carry the connection's licences by groups? The app must create security
 * groups and assign licences to them (permissions), and the tenant needs a subscription that includes group-based
 * licensing (Microsoft Entra ID P1 and above, Microsoft 365 Business Premium, Office 365 E3/A3/G3 and above:
 * concept-group-based-licensing) — not finding one is a warning, since SKU names cannot be listed exhaustively.
 */
function groupLicensingCheck(permissions: string[], skus: SubscribedSku[]): TestCheck {
  const missing = [GROUP_CREATE_PERMISSIONS, GROUP_LICENSE_PERMISSIONS]
    .filter((any) => !any.some((p) => permissions.includes(p)))
    .map((any) => any.join(' or '));
  if (missing.length > 0)
    return {
      name: 'groupLicensing',
      ok: false,
      detail: `licensingMode is group, but the app may not create security groups and assign licences to them: grant ${missing.join('; and ')}`,
    };
  const qualifying = groupLicensingSubscriptions(skus);
  return qualifying.length > 0
    ? {
        name: 'groupLicensing',
        ok: true,
        detail: `Group-based licensing: the app may create security groups and assign licences to them; ${qualifying.join(', ')} include group-based licensing`,
      }
    : {
        name: 'groupLicensing',
        ok: true,
        warning: true,
        detail: `The app may create security groups and assign licences to them, but no subscription that includes group-based licensing was found (Microsoft Entra ID P1 or above, Microsoft 365 Business Premium, Office 365 E3/A3/G3 or above; subscribed: ${skus.map((s) => s.skuPartNumber).join(', ') || 'none'}): Microsoft 365 may not give the licence groups' licences to their members`,
      };
}
