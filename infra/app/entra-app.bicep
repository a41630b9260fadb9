// Entra ID sign-in for the admin API and console: one app registration (single tenant) that exposes the API
// (scope access_as_user, v2 access tokens), defines the app roles the app checks, and is its own single-page-app
// client (the console signs in with authorization code + PKCE and calls the API with the token). Microsoft Graph
// Bicep extension (learn.microsoft.com/graph/templates); deploying it needs a directory role that may create app
// registrations and grant tenant-wide consent (Cloud Application Administrator or Application Administrator).
// The app validates the tokens itself (functions/http-auth.ts): App Service authentication (Easy Auth) is not
// configured, see README "Sign-in on Azure" for why.
extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0'

@description('Client-provided key of the app registration (Graph uniqueName): the same one updates it in place.')
param uniqueName string
param displayName string
@description('The app\'s public https URL: the console\'s redirect URI is <url>/console/ (and <url>/api/console/).')
param appUrl string
@description('Object ids of users (or groups) given Provisioning.Admin.')
param adminPrincipalIds array = []
@description('Object ids of users (or groups) given Provisioning.Reader.')
param readerPrincipalIds array = []

// The app roles and the scope, with ids stable per registration (Graph needs a GUID per role and scope).
var adminRoleId = guid(uniqueName, 'Provisioning.Admin')
var readerRoleId = guid(uniqueName, 'Provisioning.Reader')
var scopeId = guid(uniqueName, 'access_as_user')
// api://<tenant id>/<string>: a format the default app management policy accepts (identifier-uri-restrictions).
// Microsoft's well-known client id of the Azure CLI.
var azureCliAppId = '04b07795-8ddb-461a-bbee-02f9e1bf7b46'
var identifierUri = 'api://${tenant().tenantId}/${uniqueName}'

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [identifierUri]
  api: {
    // v2 access tokens: issuer https://login.microsoftonline.com/<tenant>/v2.0, aud = the client id (what the app checks).
    requestedAccessTokenVersion: 2
    oauth2PermissionScopes: [
      {
        id: scopeId
        value: 'access_as_user'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Use m365-provisioner as the signed-in user'
        adminConsentDescription: 'Lets the console call the m365-provisioner admin API as the signed-in user; what they may do is their app role.'
        userConsentDisplayName: 'Use m365-provisioner as you'
        userConsentDescription: 'Lets the console call the m365-provisioner admin API as you.'
      }
    ]
    // Scripts may get a token with `az account get-access-token --scope <scope>` without a consent prompt.
    preAuthorizedApplications: [
      {
        appId: azureCliAppId
        delegatedPermissionIds: [scopeId]
      }
    ]
  }
  appRoles: [
    {
      id: adminRoleId
      value: 'Provisioning.Admin'
      displayName: 'Provisioning administrator'
      description: 'Everything: connections, mapping, settings, changes, import, reconciliation, deletions.'
      allowedMemberTypes: ['User']
      isEnabled: true
    }
    {
      id: readerRoleId
      value: 'Provisioning.Reader'
      displayName: 'Provisioning reader'
      description: 'Reads only: the API refuses every change with 403.'
      allowedMemberTypes: ['User']
      isEnabled: true
    }
  ]
  spa: {
    redirectUris: ['${appUrl}/console/', '${appUrl}/api/console/']
  }
  // The console asks for its own API's scope and for sign-in (openid, profile, offline_access on Microsoft Graph).
  requiredResourceAccess: [
    {
      resourceAppId: '00000003-0000-0000-c000-000000000000'
      resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }] // User.Read
    }
  ]
}

// The enterprise application. Only users (or groups) assigned a role may sign in at all.
resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  appRoleAssignmentRequired: true
}

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: '00000003-0000-0000-c000-000000000000'
}

// Tenant-wide consent, so nobody is asked: the console may call its own API and sign users in.
resource apiConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = {
  clientId: servicePrincipal.id
  consentType: 'AllPrincipals'
  resourceId: servicePrincipal.id
  scope: 'access_as_user'
}

resource signInConsent 'Microsoft.Graph/oauth2PermissionGrants@v1.0' = {
  clientId: servicePrincipal.id
  consentType: 'AllPrincipals'
  resourceId: graph.id
  scope: 'openid profile offline_access User.Read'
}

resource admins 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for principalId in adminPrincipalIds: {
    appRoleId: adminRoleId
    principalId: principalId
    resourceId: servicePrincipal.id
  }
]

resource readers 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for principalId in readerPrincipalIds: {
    appRoleId: readerRoleId
    principalId: principalId
    resourceId: servicePrincipal.id
  }
]

output clientId string = app.appId
output scope string = '${identifierUri}/access_as_user'
