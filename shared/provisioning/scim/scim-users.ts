// SCIM /Users (RFC 7644 §3): each request becomes changes of the user whose externalId is its SCIM id, through the
// same pipeline as POST …/changes. The full attribute set goes with every change (an attribute the client dropped
// is sent as null, so the mapping clears it); a change of `active` also sends an explicit activate / deactivate,
// so the directory's word enables or disables the account whatever activateOnAssign says.
import { isAppError } from '../../domain/errors.js';
import { ScimError } from '../../domain/scim/scim-error.js';
import {
  applyPatch,
  patchOperations,
  readUser,
  type Resource,
  userChangeAttributes,
  withRemovals,
} from '../../domain/scim/scim-resource.js';
import type { ScimRecord } from '../ports.js';
import {
  getOne,
  list,
  type ListQuery,
  remove,
  requireConnection,
  type ScimChange,
  type ScimDeps,
  type ScimRequest,
  served,
  submitOrUndo,
  write,
} from './scim-resources.js';

const passwordAad = (connectionId: string, id: string) => `scim:${connectionId}:user:${id}:password`;

function passwordOf(deps: ScimDeps, record: ScimRecord): string | undefined {
  return record.passwordCipher
    ? deps.secrets.decrypt(record.passwordCipher, passwordAad(record.connectionId, record.id))
    : undefined;
}

const sealed = (deps: ScimDeps, connectionId: string, id: string, password: string | undefined) =>
  password ? { passwordCipher: deps.secrets.encrypt(password, passwordAad(connectionId, id)) } : {};

/** The changes that take the user from `before` (undefined: new) to `resource`, from version `from` + 1. */
function userChanges(
  id: string,
  from: number,
  resource: Resource,
  password: string | undefined,
  before?: Resource,
): { changes: ScimChange[]; version: number } {
  const previous = before ? userChangeAttributes(before) : {};
  const attributes = withRemovals(userChangeAttributes(resource, password), previous);
  const changes: ScimChange[] = [{ type: 'upsert', externalId: id, version: from + 1, attributes }];
  if (before && before.active !== resource.active)
    changes.push({
      type: resource.active ? 'activate' : 'deactivate',
      externalId: id,
      version: from + 2,
    });
  return { changes, version: from + changes.length };
}

export async function createScimUser(deps: ScimDeps, at: ScimRequest, body: unknown): Promise<Resource> {
  const connection = await requireConnection(deps, at.connectionId);
  const { resource, password } = readUser(body);
  const userName = String(resource.userName);
  // Uniqueness is the store's: the userName's index row is created in the user's own transaction.
  const id = crypto.randomUUID();
  const now = deps.clock.now().toISOString();
  const { changes, version } = userChanges(id, 0, resource, password);
  let stored: ScimRecord;
  try {
    stored = await deps.scim.create({
      connectionId: at.connectionId,
      kind: 'user',
      id,
      resource,
      version,
      created: now,
      lastModified: now,
      ...sealed(deps, at.connectionId, id, password),
    });
  } catch (error) {
    if (isAppError(error) && error.code === 'scim-uniqueness') throw taken(userName);
    throw error;
  }
  await submitOrUndo(deps, connection, changes, () => deps.scim.delete(stored));
  return served(stored, at.baseUrl);
}

const taken = (userName: string) =>
  new ScimError(409, `A user with userName ${JSON.stringify(userName)} already exists`, 'uniqueness');

export const getScimUser = (
  deps: ScimDeps,
  at: ScimRequest,
  id: string,
  query: Pick<ListQuery, 'attributes' | 'excludedAttributes'>,
) => getOne(deps, at, 'user', id, query);

export const listScimUsers = (deps: ScimDeps, at: ScimRequest, query: ListQuery) => list(deps, at, 'user', query);

/** PUT (replace, as Okta sends it) or PATCH (RFC 7644 §3.5.2, as Entra sends it): the stored user changed. */
export async function updateScimUser(
  deps: ScimDeps,
  at: ScimRequest,
  id: string,
  how: { replace: unknown } | { patch: unknown },
): Promise<Resource> {
  const operations = 'patch' in how ? patchOperations('user', how.patch) : undefined;
  const stored = await write(deps, at, 'user', id, async (current) => {
    const { resource, password: given } = operations
      ? readUser(applyPatch('user', current.resource, operations))
      : readUser('replace' in how ? how.replace : undefined);
    const password = given ?? passwordOf(deps, current);
    if (JSON.stringify(resource) === JSON.stringify(current.resource) && given === undefined) return undefined;
    const { changes, version } = userChanges(id, current.version, resource, password, current.resource);
    return {
      record: {
        ...current,
        resource,
        version,
        lastModified: deps.clock.now().toISOString(),
        ...sealed(deps, at.connectionId, id, password),
      },
      changes,
    };
  }).catch((error: unknown) => {
    if (isAppError(error) && error.code === 'scim-uniqueness') throw new ScimError(409, error.message, 'uniqueness');
    throw error;
  });
  return served(stored, at.baseUrl);
}

/** DELETE: the user's remove (per the connection's removeAction); the SCIM resource is gone (404) afterwards. */
export const deleteScimUser = (deps: ScimDeps, at: ScimRequest, id: string) =>
  remove(deps, at, 'user', id, (current) => ({ type: 'remove', externalId: id, version: current.version + 1 }));
