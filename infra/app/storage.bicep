// The storage account: the app's tables and queues, the Functions host's blobs (keys, timer locks), and the
// deployment package container of the Flex Consumption app. Shared-key access is off: everything, the
// deployment included, authenticates with Entra ID (the app's managed identity).
param name string
param location string
param tags object
@description('Principal that reads and writes the data (the app\'s managed identity).')
param dataPrincipalId string

// Every queue and table the code uses, created here so the app never depends on creating them at run time
// (and each trigger's poison queue, which the host would otherwise create on the first failure).
// test/unit/infra-consistency.test.ts compares these lists with the code (the queues the functions trigger on,
// TABLES in functions/services.ts): keep each list a plain array of string literals.
var queueNames = [
  'provisioning-operations'
  'provisioning-operations-poison'
  'reconciliation-runs'
  'reconciliation-runs-poison'
]
var tableNames = [
  'connections'
  'oauthstates'
  'users'
  'groups'
  'provisioninglogs'
  'reconciliation'
  'operationbodies'
  'configaudit'
  'scim'
]

var deploymentContainerName = 'app-package'

// Built-in roles, all scoped to this account and granted to the app's identity only:
// - Storage Blob Data Owner: the Functions host's own storage (it creates its containers, writes keys and
//   locks) and the deployment package (the documented minimum for AzureWebJobsStorage with an identity).
// - Storage Queue Data Contributor: the app sends, receives and deletes operation messages, creates a queue
//   if missing, and the host moves failed messages to the poison queue (the finer Message Sender/Processor
//   roles cannot create queues).
// - Storage Table Data Contributor: the app's state (connections, users, logs) and the host's diagnostic events.
var roles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [
  for queueName in queueNames: {
    parent: queueService
    name: queueName
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

resource dataAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in roles: {
    name: guid(account.id, dataPrincipalId, role)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: dataPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

output name string = account.name
// primaryEndpoints end with a slash (https://<name>.blob.core.windows.net/); the app accepts them as they are.
output blobServiceUri string = account.properties.primaryEndpoints.blob
output queueServiceUri string = account.properties.primaryEndpoints.queue
output tableServiceUri string = account.properties.primaryEndpoints.table
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
