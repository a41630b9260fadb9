// m365-provisioner on Azure: `azd up` provisions this, then deploys the app to the Function App it creates.
//
//   resource group
//   ├── user-assigned managed identity   the app's only credential (storage, Key Vault, Application Insights)
//   ├── Log Analytics + Application Insights (local auth off: the app sends telemetry with its identity)
//   ├── Storage account (shared keys off): app tables and queues, Functions host blobs, deployment package
//   ├── Key Vault (RBAC): the secrets-encryption keys, read by the app through a Key Vault reference
//   ├── Flex Consumption plan + Function App (Linux, Node 22)
//   └── (Entra ID, Microsoft Graph Bicep extension) the sign-in app registration with its app roles (entra-app.bicep)
//
// Not compiled in this repository's CI (no Bicep CLI offline): test/unit/infra-consistency.test.ts checks the
// app settings, queues and tables against the code, and `az bicep build --file infra/main.bicep` checks syntax.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. With the subscription and location it seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer the Flex Consumption plan: az functionapp list-flexconsumption-locations -o table')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@maxLength(10)
@description('Short prefix of resource names: lowercase letters and digits (empty: m365prov).')
param namePrefix string = ''

@secure()
@description('SECRETS_ENCRYPTION_KEYS: comma-separated keyId:base64(32 random bytes), the first one encrypts. Set by infra/hooks/ensure-encryption-key.mjs. Empty: the secret already in Key Vault is kept.')
param secretsEncryptionKeys string = ''

@minValue(1)
@maxValue(1000)
@description('Most instances the app may scale out to. Graph throttles per app and tenant, so more instances do not provision faster once the write quota is reached.')
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
@description('Memory of each instance (MB).')
param instanceMemoryMB int = 2048

@description('Entra ID sign-in for the admin API and console: an app registration with the app roles Provisioning.Admin and Provisioning.Reader (needs a directory role that may create app registrations and grant consent). false: function keys only.')
param signInEnabled bool = true

@description('Object id of the person running azd (azd sets AZURE_PRINCIPAL_ID): given Provisioning.Admin. Empty: nobody.')
param principalId string = ''

@description('More object ids (users or groups) given Provisioning.Admin.')
param signInAdminPrincipalIds array = []

@description('Object ids (users or groups) given Provisioning.Reader.')
param signInReaderPrincipalIds array = []

@description('Turn on Key Vault purge protection (cannot be turned off again; a deleted vault then stays reserved for 90 days).')
param keyVaultPurgeProtection bool = false

var prefix = empty(namePrefix) ? 'm365prov' : toLower(namePrefix)
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

// User-assigned rather than system-assigned: the identity and its role assignments exist before the Function
// App does, so the app's first start already reaches storage and resolves its Key Vault reference (a
// system-assigned identity only exists once the site does, and its roles would be granted after it started).
module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${prefix}-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${prefix}-${resourceToken}'
    applicationInsightsName: 'appi-${prefix}-${resourceToken}'
    location: location
    tags: tags
    telemetryPublisherPrincipalId: identity.outputs.principalId
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: take('st${replace(prefix, '-', '')}${resourceToken}', 24)
    location: location
    tags: tags
    dataPrincipalId: identity.outputs.principalId
  }
}

module keyVault 'app/key-vault.bicep' = {
  name: 'key-vault'
  scope: rg
  params: {
    name: take('kv${replace(prefix, '-', '')}${resourceToken}', 24)
    location: location
    tags: tags
    secretsEncryptionKeys: secretsEncryptionKeys
    secretsReaderPrincipalId: identity.outputs.principalId
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: 'func-${prefix}-${resourceToken}'
    planName: 'plan-${prefix}-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    blobServiceUri: storage.outputs.blobServiceUri
    queueServiceUri: storage.outputs.queueServiceUri
    tableServiceUri: storage.outputs.tableServiceUri
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    encryptionKeysSecretUri: keyVault.outputs.encryptionKeysSecretUri
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    signInEnabled: signInEnabled
    signInAppUniqueName: 'm365prov-${prefix}-${resourceToken}'
    signInAdminPrincipalIds: union(empty(principalId) ? [] : [principalId], signInAdminPrincipalIds)
    signInReaderPrincipalIds: signInReaderPrincipalIds
  }
}

// azd stores these in .azure/<environment>/.env (`azd env get-values`).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.name
@description('The app\'s public https URL (PUBLIC_BASE_URL).')
output SERVICE_API_URI string = functionApp.outputs.url
@description('Client id of the sign-in app registration (empty when sign-in is off).')
output SIGN_IN_CLIENT_ID string = functionApp.outputs.signInClientId
@description('Register this redirect URI on the Entra app registration (authorization_code connections).')
output OAUTH_REDIRECT_URI string = '${functionApp.outputs.url}/api/oauth/callback'
