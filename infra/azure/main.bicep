// Web Scheduler on Azure Container Apps with Azure Cache for Redis.
//
//   az deployment group create -g <group> -f infra/azure/main.bicep \
//     -p image=ghcr.io/webscheduler/webscheduler:<version> tenantId=<GUID> clientId=<GUID> \
//        keyVaultName=<vault holding client-secret and encryption-key> settingsYaml=@settings.yaml
//
// Secrets never pass through this template: the app reads them from Key
// Vault with its own managed identity. See infra/DEPLOYMENT.md.

@description('Prefix of every resource name.')
@minLength(3)
@maxLength(20)
param name string = 'webscheduler'

param location string = resourceGroup().location

@description('Container image, e.g. ghcr.io/webscheduler/webscheduler:1.2.0')
param image string

@description('Entra tenant GUID (or "organizations" with allowedTenants).')
param tenantId string

@description('Application (client) ID of the Web Scheduler app registration.')
param clientId string

@description('Comma list of tenant IDs accepted when tenantId is "organizations".')
param allowedTenants string = ''

@description('The https origin users and Outlook reach. Empty: the app\'s own Container Apps address.')
param publicUrl string = ''

@allowed(['template', 'teams'])
param provider string = 'template'

@description('Comma list of the addresses or CIDR prefixes Container Apps\' ingress reaches the app from (the environment\'s infrastructure subnet): their X-Forwarded-For then names the client for the per-address rate limit. Empty: the peer counts.')
param trustedProxies string = ''

@description('The conferencing settings file (YAML), see README "Conferencing settings". Required with the template provider.')
param settingsYaml string = ''

@description('Existing Key Vault in this resource group with the secrets "client-secret" and "encryption-key".')
param keyVaultName string

@minValue(2)
@description('At least two replicas, so one can restart while the other serves.')
param minReplicas int = 2

@maxValue(30)
param maxReplicas int = 10

@allowed(['Standard', 'Premium'])
@description('Premium keeps an append-only file (AOF) of Redis, so conferences survive a full restart; Standard replicates but does not persist.')
param redisSku string = 'Premium'

var appName = '${name}-app'
var tags = { application: 'webscheduler' }

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${name}-logs'
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
  }
}

resource env 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${name}-env'
  location: location
  tags: tags
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    zoneRedundant: false
  }
}

// Redis keeps sessions, conferences and refresh jobs. Premium writes an
// append-only file to this storage account.
resource aofStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = if (redisSku == 'Premium') {
  name: take(toLower(replace('${name}aof${uniqueString(resourceGroup().id)}', '-', '')), 24)
  location: location
  tags: tags
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource redis 'Microsoft.Cache/redis@2024-03-01' = {
  name: '${name}-redis-${uniqueString(resourceGroup().id)}'
  location: location
  tags: tags
  properties: {
    sku: redisSku == 'Premium' ? { name: 'Premium', family: 'P', capacity: 1 } : { name: 'Standard', family: 'C', capacity: 1 }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    redisVersion: '6'
    redisConfiguration: redisSku == 'Premium' ? {
      'aof-backup-enabled': 'true'
      'aof-storage-connection-string-0': 'DefaultEndpointsProtocol=https;AccountName=${aofStorage.name};AccountKey=${aofStorage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'
    } : {}
  }
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-identity'
  location: location
  tags: tags
}

// Key Vault Secrets User: read secrets, nothing else.
resource secretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, '4633458b-17de-408a-b874-0445c86b69e6')
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

var origin = empty(publicUrl) ? 'https://${appName}.${env.properties.defaultDomain}' : publicUrl

var settingsEnv = empty(settingsYaml) ? [] : [
  { name: 'WEBSCHEDULER_SETTINGS', value: '/etc/webscheduler/settings.yaml' }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  dependsOn: [secretsUser]
  properties: {
    managedEnvironmentId: env.id
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 8080
        transport: 'http'
        allowInsecure: false
      }
      secrets: concat([
        { name: 'client-secret', keyVaultUrl: '${vault.properties.vaultUri}secrets/client-secret', identity: identity.id }
        { name: 'encryption-key', keyVaultUrl: '${vault.properties.vaultUri}secrets/encryption-key', identity: identity.id }
        // Built here from the cache's key; it stays in the app's secret store.
        { name: 'redis-url', value: 'rediss://:${redis.listKeys().primaryKey}@${redis.properties.hostName}:${redis.properties.sslPort}/0' }
      ], empty(settingsYaml) ? [] : [
        { name: 'settings-yaml', value: settingsYaml }
      ])
    }
    template: {
      containers: [
        {
          name: 'webscheduler'
          image: image
          args: ['serve']
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: concat([
            { name: 'WEBSCHEDULER_ADDR', value: '0.0.0.0:8080' }
            { name: 'WEBSCHEDULER_PUBLIC_URL', value: origin }
            { name: 'WEBSCHEDULER_TENANT_ID', value: tenantId }
            { name: 'WEBSCHEDULER_ALLOWED_TENANTS', value: allowedTenants }
            { name: 'WEBSCHEDULER_CLIENT_ID', value: clientId }
            { name: 'WEBSCHEDULER_PROVIDER', value: provider }
            { name: 'WEBSCHEDULER_TRUSTED_PROXIES', value: trustedProxies }
            { name: 'WEBSCHEDULER_CLIENT_SECRET', secretRef: 'client-secret' }
            { name: 'WEBSCHEDULER_ENCRYPTION_KEY', secretRef: 'encryption-key' }
            { name: 'WEBSCHEDULER_REDIS_URL', secretRef: 'redis-url' }
          ], settingsEnv)
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/healthz', port: 8080 }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: { path: '/readyz', port: 8080 }
              periodSeconds: 5
              failureThreshold: 2
            }
            {
              type: 'Startup'
              httpGet: { path: '/healthz', port: 8080 }
              periodSeconds: 2
              failureThreshold: 30
            }
          ]
          volumeMounts: empty(settingsYaml) ? [] : [
            { volumeName: 'settings', mountPath: '/etc/webscheduler' }
          ]
        }
      ]
      volumes: empty(settingsYaml) ? [] : [
        {
          name: 'settings'
          storageType: 'Secret'
          secrets: [ { secretRef: 'settings-yaml', path: 'settings.yaml' } ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: { metadata: { concurrentRequests: '50' } }
          }
        ]
      }
    }
  }
}

@description('The address to give Outlook: WEBSCHEDULER_PUBLIC_URL.')
output publicUrl string = origin

@description('Manifest to deploy through the Microsoft 365 admin center.')
output manifestUrl string = '${origin}/manifest.xml'
