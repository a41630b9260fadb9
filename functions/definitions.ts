// Every function of the app, declared once. functions/index.ts registers these with Azure; the local host
// (dev/host) serves the same list.
import type { FunctionDefinition } from './define.js';
import { auditFunction } from './http/audit.js';
import { authConfigFunction, keyCheckFunction, meFunction } from './http/auth.js';
import { submitChangesFunction } from './http/changes-submit.js';
import { adminConsentFunction } from './http/connections-admin-consent.js';
import { authorizeConnectionFunction } from './http/connections-authorize.js';
import { createConnectionFunction } from './http/connections-create.js';
import { deleteConnectionFunction } from './http/connections-delete.js';
import { getConnectionFunction } from './http/connections-get.js';
import { listConnectionsFunction } from './http/connections-list.js';
import { testConnectionFunction } from './http/connections-test.js';
import { updateConnectionFunction } from './http/connections-update.js';
import { consoleStaticFunction } from './http/console-static.js';
import { groupMappingFunction, patchGroupMappingFunction } from './http/group-mapping.js';
import { getGroupFunction, listGroupsFunction, provisionGroupFunction, retryGroupFunction } from './http/groups.js';
import { healthFunction } from './http/health.js';
import { importFunction } from './http/import.js';
import { licencesFunction } from './http/licences.js';
import { queryLogsFunction } from './http/logs-query.js';
import {
  mappingFunction,
  mappingMetadataFunction,
  mappingPreviewFunction,
  patchMappingFunction,
} from './http/mapping.js';
import { notFoundFunction } from './http/not-found.js';
import { oauthCallbackFunction } from './http/oauth-callback.js';
import { openApiFunction } from './http/openapi.js';
import {
  decideStagedFunction,
  getRunFunction,
  listRunsFunction,
  listStagedFunction,
  runProgressFunction,
  startReconcileFunction,
} from './http/reconcile.js';
import { scimDiscoveryFunctions } from './http/scim-discovery.js';
import { scimResourceFunctions } from './http/scim-resources.js';
import { createScimTokenFunction, listScimTokensFunction, revokeScimTokenFunction } from './http/scim-tokens.js';
import { patchSettingsFunction, settingsFunction } from './http/settings.js';
import { getUserFunction } from './http/users-get.js';
import { rematchUserFunction, unlinkUserFunction } from './http/users-links.js';
import { listUsersFunction } from './http/users-list.js';
import { provisionUserFunction } from './http/users-provision.js';
import { retryUserFunction } from './http/users-retry.js';
import { applyOperationFunction } from './queue/apply-operation.js';
import { reconcileRunFunction } from './queue/reconcile-run.js';
import { drainPoisonFunction } from './timer/drain-poison.js';
import { reconcileTimerFunction } from './timer/reconcile-timer.js';

export const functionDefinitions: readonly FunctionDefinition[] = [
  healthFunction,
  createConnectionFunction,
  listConnectionsFunction,
  getConnectionFunction,
  updateConnectionFunction,
  deleteConnectionFunction,
  testConnectionFunction,
  authorizeConnectionFunction,
  adminConsentFunction,
  oauthCallbackFunction,
  openApiFunction,
  mappingFunction,
  patchMappingFunction,
  mappingMetadataFunction,
  mappingPreviewFunction,
  settingsFunction,
  patchSettingsFunction,
  auditFunction,
  submitChangesFunction,
  listUsersFunction,
  getUserFunction,
  provisionUserFunction,
  retryUserFunction,
  unlinkUserFunction,
  rematchUserFunction,
  listGroupsFunction,
  groupMappingFunction,
  patchGroupMappingFunction,
  getGroupFunction,
  provisionGroupFunction,
  retryGroupFunction,
  queryLogsFunction,
  startReconcileFunction,
  listRunsFunction,
  getRunFunction,
  runProgressFunction,
  listStagedFunction,
  decideStagedFunction,
  importFunction,
  meFunction,
  authConfigFunction,
  keyCheckFunction,
  createScimTokenFunction,
  listScimTokensFunction,
  revokeScimTokenFunction,
  ...scimResourceFunctions,
  ...scimDiscoveryFunctions,
  licencesFunction,
  consoleStaticFunction,
  notFoundFunction,
  applyOperationFunction,
  reconcileRunFunction,
  reconcileTimerFunction,
  drainPoisonFunction,
];
