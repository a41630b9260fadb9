// Key Vault holding SECRETS_ENCRYPTION_KEYS (the AES-256-GCM keys that encrypt client secrets and refresh
// tokens at rest). RBAC authorization, soft delete; the app reads the secret through a Key Vault reference.
param name string
param location string
param tags object
@secure()
@description('The keys to store (keyId:base64 entries). Empty: leave the secret as it is (it must exist already).')
param secretsEncryptionKeys string
@description('Principal that reads the secret (the app\'s managed identity).')
param secretsReaderPrincipalId string
param enablePurgeProtection bool

var secretName = 'secrets-encryption-keys'
// Built-in role: Key Vault Secrets User (read secret contents). Scoped to this vault, which holds only this secret.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    accessPolicies: []
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection can only be switched on (null leaves it off).
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Written only when a value is given, so a later provision without the key (another machine, a lost .azure
// folder) cannot replace the key that encrypted the stored secrets. Each write keeps the old value as a version.
resource encryptionKeys 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(secretsEncryptionKeys)) {
  parent: vault
  name: secretName
  properties: {
    value: secretsEncryptionKeys
    contentType: 'SECRETS_ENCRYPTION_KEYS: comma-separated keyId:base64(32 bytes); the first encrypts'
  }
}

resource readSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, secretsReaderPrincipalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: secretsReaderPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = vault.name
// Versionless (with the trailing slash of the documented form), so the app follows a rotated key: App Service
// re-reads Key Vault references about every 24 hours and whenever the app's settings change. Built from the
// vault URI because the secret resource is not deployed every time.
output encryptionKeysSecretUri string = '${vault.properties.vaultUri}secrets/${secretName}/'
