// The Flex Consumption plan and the Function App (Linux, Node 22), running as the user-assigned identity.
// Flex Consumption takes the runtime, scale and deployment storage from `functionAppConfig`; the app settings
// FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENT* and
// WEBSITE_NODE_DEFAULT_VERSION are not used on this plan and must not be set.
param name string
param planName string
param location string
param tags object
@description('Resource id of the app\'s user-assigned managed identity.')
param identityId string
@description('Client id of the same identity (identity-based connections name it by client id).')
param identityClientId string
@description('https URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string
param blobServiceUri string
param queueServiceUri string
param tableServiceUri string
param applicationInsightsConnectionString string
@description('Versionless URI of the Key Vault secret holding SECRETS_ENCRYPTION_KEYS.')
param encryptionKeysSecretUri string
param maximumInstanceCount int
param instanceMemoryMB int
@description('Entra ID sign-in for the admin API and console (app registration with app roles, entra-app.bicep).')
param signInEnabled bool
@description('Graph uniqueName of the sign-in app registration.')
param signInAppUniqueName string
@description('Object ids given Provisioning.Admin.')
param signInAdminPrincipalIds array
@description('Object ids given Provisioning.Reader.')
param signInReaderPrincipalIds array

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd deploys the `api` service of azure.yaml to the resource with this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity (the default would be a system-assigned one).
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// The app registration needs the app's address (the console's redirect URI); the app settings need its client id.
module entraApp 'entra-app.bicep' = if (signInEnabled) {
  name: 'entra-app'
  params: {
    uniqueName: signInAppUniqueName
    displayName: 'm365-provisioner (${name})'
    appUrl: 'https://${functionApp.properties.defaultHostName}'
    adminPrincipalIds: signInAdminPrincipalIds
    readerPrincipalIds: signInReaderPrincipalIds
  }
}

// Every app setting, in this one object: test/unit/infra-consistency.test.ts reads it and compares it with the
// configuration schema in shared/config.ts (a setting the code requires must be here; a setting here must be
// one the code or the platform reads). Keep it a plain object literal, one `name: value` per line.
var appSettings = {
  // Host and app storage, identity-based (the storage account allows no shared keys): the Functions host and
  // the app both read these (shared/storage/storage-settings.ts).
  AzureWebJobsStorage__blobServiceUri: blobServiceUri
  AzureWebJobsStorage__queueServiceUri: queueServiceUri
  AzureWebJobsStorage__tableServiceUri: tableServiceUri
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Resolved by the platform from Key Vault before the app starts; the app sees the keys themselves.
  SECRETS_ENCRYPTION_KEYS: '@Microsoft.KeyVault(SecretUri=${encryptionKeysSecretUri})'
  // The OAuth redirect URI is <PUBLIC_BASE_URL>/api/oauth/callback.
  PUBLIC_BASE_URL: 'https://${functionApp.properties.defaultHostName}'
  // Entra ID sign-in (shared/config.ts): set, the admin routes are registered anonymous and the app validates v2
  // access tokens of this tenant for this client id (or a function key); empty, sign-in is off (function keys only).
  ENTRA_TENANT_ID: signInEnabled ? tenant().tenantId : ''
  ENTRA_CLIENT_ID: signInEnabled ? entraApp!.outputs.clientId : ''
  ENTRA_API_SCOPE: signInEnabled ? entraApp!.outputs.scope : ''
  ENTRA_AUTHORITY_HOST: environment().authentication.loginEndpoint
  // Telemetry from the Functions host, authenticated with the managed identity (local auth is off).
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: appSettings
}

output name string = functionApp.name
output signInClientId string = signInEnabled ? entraApp!.outputs.clientId : ''
output url string = 'https://${functionApp.properties.defaultHostName}'
