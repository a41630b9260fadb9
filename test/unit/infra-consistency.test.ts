// The Azure infrastructure (infra/*.bicep, azure.yaml, .funcignore) against the code, read at run time so that
// settings, queues and tables added to the code later are held to the same rules:
// - every setting the app requires is set, and every setting set is one the code or the platform reads;
// - storage is reached with the managed identity only (identity-based settings the app parses, no keys);
// - every queue the functions trigger on or the app sends to, and every table, is created.
// No Bicep compiler runs here (none installs offline): this reads the literals the templates keep in one place.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../dev/paths.js';
import type { StorageQueueFunctionDefinition } from '../../functions/define.js';
import { functionDefinitions } from '../../functions/definitions.js';
import { TABLES } from '../../functions/services.js';
import { configSchema, signInSettings } from '../../shared/config.js';
import { APP_ROLES } from '../../shared/domain/access.js';
import { PROVISIONING_QUEUE } from '../../shared/domain/change.js';
import { REQUIRED_PERMISSIONS } from '../../shared/domain/connection.js';
import { HOST_STORAGE, parseStorageSettings } from '../../shared/storage/storage-settings.js';
import { bicepObjectVar, bicepStringArrayVar, literalString } from '../support/bicep.js';
import { compareAppSettings, schemaSettings, type SettingRules } from '../support/infra-settings.js';

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const FUNCTION_APP = 'infra/app/function-app.bicep';
const STORAGE = 'infra/app/storage.bicep';

/** Settings the infrastructure may set although the code does not read them, and settings it must not set. */
const RULES: SettingRules = {
  platform: {
    APPLICATIONINSIGHTS_CONNECTION_STRING:
      "The Functions host sends the app's logs and traces to Application Insights.",
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
      'The host authenticates to Application Insights with the managed identity (local auth is off).',
  },
  neverOnAzure: {
    GRAPH_THROTTLE_TIME_SCALE:
      "Only for the simulated tenant run with --time-scale: against Microsoft 365 the governor would overrun Graph's limits.",
    AzureWebJobsStorage:
      'A connection string carries an account key; the storage account allows no shared keys (identity-based settings instead).',
    FUNCTIONS_WORKER_RUNTIME: 'Flex Consumption takes the runtime from functionAppConfig.runtime.',
    FUNCTIONS_EXTENSION_VERSION: 'Set by the Flex Consumption platform itself.',
    WEBSITE_RUN_FROM_PACKAGE: 'Flex Consumption runs from its deployment blob container.',
    WEBSITE_CONTENTAZUREFILECONNECTIONSTRING:
      'Flex Consumption has no content file share (and it would need an account key).',
    WEBSITE_CONTENTSHARE: 'Flex Consumption has no content file share.',
    WEBSITE_NODE_DEFAULT_VERSION: 'The Node version is functionAppConfig.runtime.version.',
    SCM_DO_BUILD_DURING_DEPLOYMENT:
      'Not used on Flex Consumption: azd asks for the remote build (azure.yaml remoteBuild).',
    ENABLE_ORYX_BUILD: 'Not used on Flex Consumption: azd asks for the remote build (azure.yaml remoteBuild).',
  },
};

const appSettings = bicepObjectVar(read(FUNCTION_APP), 'appSettings');

/**
 * The app settings as environment variables: literals as written; values Azure computes at deployment
 * (endpoints, the identity's client id) replaced by stand-ins of the same shape.
 */
function infraEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, { raw, literal }] of appSettings) {
    const service = /__(queue|table|blob)ServiceUri$/.exec(name)?.[1];
    env[name] =
      literal ??
      (service
        ? `https://standin.${service}.core.windows.net/`
        : name.endsWith('__clientId')
          ? '00000000-0000-4000-8000-000000000000'
          : name.endsWith('__accountName')
            ? 'standin'
            : `<deployment-time value: ${raw}>`);
  }
  return env;
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(REPO_ROOT, path)).isDirectory() ? filesUnder(path) : [path];
  });
}

const queueTriggers = functionDefinitions.filter((d): d is StorageQueueFunctionDefinition => d.kind === 'storageQueue');

/** A trigger's queue name with `%SETTING%` references resolved from the literal app settings, as the host does. */
function resolveQueueName(queueName: string): string {
  return queueName.replace(/%([^%]+)%/g, (_, setting: string) => {
    const value = appSettings.get(setting)?.literal;
    if (value === undefined)
      throw new Error(
        `queue name "${queueName}" refers to %${setting}%, which the infrastructure does not set to a literal`,
      );
    return value;
  });
}

describe('app settings (infra/app/function-app.bicep) against the configuration schema (shared/config.ts)', () => {
  const comparison = compareAppSettings(schemaSettings(configSchema), appSettings.keys(), RULES);

  it('sets every setting the app requires', () => {
    expect(comparison.missingRequired).toEqual([]);
  });

  it('sets nothing that neither the code nor the platform reads', () => {
    expect(comparison.unknown).toEqual([]);
  });

  it('sets none of the settings that must never be set on Azure', () => {
    expect(comparison.forbidden).toEqual([]);
  });

  it('configures storage the way the app parses it: identity-based, the user-assigned managed identity', () => {
    const result = parseStorageSettings(infraEnvironment(), HOST_STORAGE, ['queue', 'table']);
    expect(result).toMatchObject({
      ok: true,
      settings: { kind: 'identity', credential: 'managedidentity', clientId: expect.any(String) },
    });
    expect(appSettings.get('AzureWebJobsStorage__clientId')?.raw).toBe('identityClientId');
  });

  it('configures the storage connection of every queue trigger', () => {
    expect(queueTriggers.length).toBeGreaterThan(0);
    for (const fn of queueTriggers) {
      expect({ fn: fn.name, ok: parseStorageSettings(infraEnvironment(), fn.connection, ['queue']).ok }).toEqual({
        fn: fn.name,
        ok: true,
      });
    }
  });

  it("reads SECRETS_ENCRYPTION_KEYS from Key Vault and sets PUBLIC_BASE_URL to the app's https address", () => {
    expect(appSettings.get('SECRETS_ENCRYPTION_KEYS')?.raw).toMatch(
      /^'@Microsoft\.KeyVault\(SecretUri=\$\{encryptionKeysSecretUri\}\)'$/,
    );
    expect(read('infra/app/key-vault.bicep')).toMatch(
      /output encryptionKeysSecretUri string = '\$\{vault\.properties\.vaultUri\}secrets\/\$\{secretName\}\/'/,
    );
    expect(appSettings.get('PUBLIC_BASE_URL')?.raw).toBe("'https://${functionApp.properties.defaultHostName}'");
  });

  it('keeps every app setting in that one object', () => {
    const bicep = filesUnder('infra')
      .filter((f) => f.endsWith('.bicep'))
      .map((f) => [f, read(f)] as const);
    for (const [file, text] of bicep) {
      expect({ file, siteConfigAppSettings: /\bappSettings\s*:\s*\[/.test(text) }).toEqual({
        file,
        siteConfigAppSettings: false,
      });
      const configs = [...text.matchAll(/'Microsoft\.Web\/sites\/config@[^']+'/g)].length;
      expect({ file, configs }).toEqual({ file, configs: file === FUNCTION_APP ? 1 : 0 });
    }
    expect(read(FUNCTION_APP)).toMatch(/name: 'appsettings'\s+properties: appSettings\s*\n\}/);
  });
});

describe('storage resources (infra/app/storage.bicep) against the code', () => {
  const storage = read(STORAGE);
  const queues = bicepStringArrayVar(storage, 'queueNames');
  const tables = bicepStringArrayVar(storage, 'tableNames');

  it("creates every queue a function triggers on or the app sends to, each trigger's poison queue, and no other", () => {
    const triggered = queueTriggers.map((fn) => resolveQueueName(fn.queueName));
    const poison = triggered.filter((q) => !q.endsWith('-poison')).map((q) => `${q}-poison`);
    const used = new Set([PROVISIONING_QUEUE, ...triggered, ...poison]);
    expect([...used].filter((q) => !queues.includes(q))).toEqual([]);
    expect(queues.filter((q) => !used.has(q))).toEqual([]);
    expect(queues).toContain(`${PROVISIONING_QUEUE}-poison`);
  });

  it('creates every table in TABLES (functions/services.ts), and no other', () => {
    const used = Object.values(TABLES) as string[];
    expect(used.filter((t) => !tables.includes(t))).toEqual([]);
    expect(tables.filter((t) => !used.includes(t))).toEqual([]);
  });

  it('uses names Azure Storage accepts', () => {
    // Queues: 3–63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
    for (const q of queues) expect(q).toMatch(/^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/);
    // Tables: 3–63 letters and digits, starting with a letter.
    for (const t of tables) expect(t).toMatch(/^[A-Za-z][A-Za-z0-9]{2,62}$/);
  });
});

describe('no account keys anywhere in the infrastructure', () => {
  const files = [...filesUnder('infra'), 'azure.yaml'].filter((f) => /\.(bicep|json|ya?ml|mjs)$/.test(f));

  it.each(files.map((f) => [f]))('%s lists no keys and builds no connection string', (file) => {
    const text = read(file);
    expect(text).not.toMatch(/listKeys\s*\(/i);
    expect(text).not.toMatch(/listConnectionStrings|AccountKey=|SharedAccessKey|primaryKey/i);
    expect(text).not.toMatch(/StorageAccountConnectionString/);
  });

  it('turns shared-key access off on the storage account and deploys with the managed identity', () => {
    const storage = read(STORAGE);
    expect(storage).toMatch(/^\s*allowSharedKeyAccess: false$/m);
    expect(storage).not.toMatch(/allowSharedKeyAccess: true/);
    expect(storage).toMatch(/^\s*minimumTlsVersion: 'TLS1_2'$/m);
    expect(storage).toMatch(/^\s*supportsHttpsTrafficOnly: true$/m);
    expect(read(FUNCTION_APP)).toMatch(
      /authentication: \{\s+type: 'UserAssignedIdentity'\s+userAssignedIdentityResourceId: identityId\s+\}/,
    );
  });
});

describe('hosting', () => {
  it('runs Node 22 on Flex Consumption, which package.json engines allows', () => {
    const app = read(FUNCTION_APP);
    expect(app).toMatch(/sku: \{\s+tier: 'FlexConsumption'\s+name: 'FC1'\s+\}/);
    expect(app).toMatch(/runtime: \{\s+name: 'node'\s+version: '22'\s+\}/);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const [, major, minor] = /^>=(\d+)\.(\d+)/.exec(engines)!;
    expect(Number(major) < 22 || (Number(major) === 22 && Number(minor) === 0)).toBe(true);
  });

  it('packages what the Functions host loads, and leaves node_modules to the remote build', () => {
    const ignored = read('.funcignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const kept of [
      'host.json',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'functions',
      'shared',
      'console',
      'dist',
    ]) {
      expect(ignored.filter((pattern) => pattern.replace(/^\/|\/$/g, '') === kept)).toEqual([]);
    }
    expect(ignored).toContain('node_modules/');
    expect(read('azure.yaml')).toMatch(/^ {4}remoteBuild: true$/m);
    const main = (JSON.parse(read('package.json')) as { main: string }).main;
    expect(main).toBe('dist/functions/index.js');
    expect(read('azure.yaml')).toMatch(/^ {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
  });

  it('tags the Function App for the azd service in azure.yaml', () => {
    expect(read(FUNCTION_APP)).toMatch(/tags: union\(tags, \{ 'azd-service-name': 'api' \}\)/);
  });
});

describe('Entra ID sign-in (infra/app/entra-app.bicep) against the code', () => {
  const ENTRA_APP = 'infra/app/entra-app.bicep';
  const entraApp = read(ENTRA_APP);
  const functionApp = read(FUNCTION_APP);
  const main = read('infra/main.bicep');

  it('defines, on one app registration, exactly the app roles the API checks, for users', () => {
    const roles = [...entraApp.matchAll(/^\s+value: '(Provisioning\.[A-Za-z]+)'$/gm)].map((m) => m[1]);
    expect(roles.sort()).toEqual(Object.values(APP_ROLES).sort());
    expect(entraApp.match(/resource \w+ 'Microsoft\.Graph\/applications@v1\.0' =/g)).toHaveLength(1);
    expect(entraApp).not.toMatch(/allowedMemberTypes: \[[^\]]*'Application'/);
    expect(entraApp).toMatch(/^extension 'br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:[\d.]+'$/m);
  });

  it('exposes the scope the app tells the console to ask for, with the v2 access tokens the app accepts', () => {
    const scope = signInSettings({
      ENTRA_TENANT_ID: '00000000-0000-4000-8000-000000000001',
      ENTRA_CLIENT_ID: '00000000-0000-4000-8000-000000000002',
      ENTRA_AUTHORITY_HOST: 'https://login.microsoftonline.com',
      ENTRA_API_SCOPE: undefined,
    })!.scope;
    const scopeName = scope.slice(scope.lastIndexOf('/') + 1);
    expect(entraApp).toMatch(new RegExp(`value: '${scopeName}'`));
    expect(entraApp).toMatch(new RegExp(`output scope string = '\\$\\{identifierUri\\}/${scopeName}'`));
    expect(entraApp).toMatch(/requestedAccessTokenVersion: 2\b/);
    // The default app management policy accepts api://<tenant id>/<string> (identifier-uri-restrictions).
    expect(entraApp).toMatch(/var identifierUri = 'api:\/\/\$\{tenant\(\)\.tenantId\}\/\$\{uniqueName\}'/);
  });

  it("registers the console's redirect URIs on the single-page-application platform (PKCE, no secret)", () => {
    expect(entraApp).toMatch(/spa: \{\s*redirectUris: \['\$\{appUrl\}\/console\/'/);
    expect(functionApp).toMatch(/appUrl: 'https:\/\/\$\{functionApp\.properties\.defaultHostName\}'/);
  });

  it('gives the app the settings that turn sign-in on, from the app registration, in the sovereign cloud too', () => {
    expect(appSettings.get('ENTRA_TENANT_ID')?.raw).toBe("signInEnabled ? tenant().tenantId : ''");
    expect(appSettings.get('ENTRA_CLIENT_ID')?.raw).toBe("signInEnabled ? entraApp!.outputs.clientId : ''");
    expect(appSettings.get('ENTRA_API_SCOPE')?.raw).toBe("signInEnabled ? entraApp!.outputs.scope : ''");
    expect(appSettings.get('ENTRA_AUTHORITY_HOST')?.raw).toBe('environment().authentication.loginEndpoint');
    // '' (sign-in off) is read as unset, so the app starts with function keys only.
    const off = configSchema.safeParse({ ENTRA_TENANT_ID: '', ENTRA_CLIENT_ID: '', ENTRA_API_SCOPE: '' });
    expect(off.success || off.error.issues.every((i) => !String(i.path[0]).startsWith('ENTRA_'))).toBe(true);
    // The authority host as environment() gives it (trailing slash) is accepted and normalised.
    expect(configSchema.shape.ENTRA_AUTHORITY_HOST.parse('https://login.microsoftonline.com/')).toBe(
      'https://login.microsoftonline.com',
    );
  });

  it('is wired from main.bicep and azd: the deployer becomes Provisioning.Admin, SIGN_IN_ENABLED=false turns it off', () => {
    expect(main).toMatch(/param signInEnabled bool = true/);
    expect(main).toMatch(
      /signInAdminPrincipalIds: union\(empty\(principalId\) \? \[\] : \[principalId\], signInAdminPrincipalIds\)/,
    );
    const parameters = (
      JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, { value: string }> }
    ).parameters;
    expect(parameters.signInEnabled?.value).toBe('${SIGN_IN_ENABLED=true}');
    expect(parameters.principalId?.value).toBe('${AZURE_PRINCIPAL_ID}');
    for (const name of Object.keys(parameters))
      expect({ name, declared: main.includes(`param ${name} `) }).toEqual({ name, declared: true });
  });

  it('configures no App Service authentication (Easy Auth is not supported on Flex Consumption): the app validates tokens', () => {
    for (const file of filesUnder('infra').filter((f) => f.endsWith('.bicep')))
      expect({ file, easyAuth: /authsettingsV2/i.test(read(file)) }).toEqual({ file, easyAuth: false });
  });
});

describe('README "Deploy to Azure"', () => {
  const readme = read('README.md');
  const start = readme.indexOf('## Deploy to Azure');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));

  it('names the Graph permissions that "test connection" checks and the OAuth redirect URI', () => {
    expect(start).toBeGreaterThan(0);
    for (const permission of REQUIRED_PERMISSIONS) expect(section).toContain(permission);
    expect(section).toContain('/api/oauth/callback');
  });
});

describe('the settings comparison itself', () => {
  const schema = [
    { name: 'NEEDED', required: true },
    { name: 'TUNING', required: false },
    { name: 'SIM_ONLY', required: false },
  ];
  const rules: SettingRules = {
    platform: { PLATFORM_THING: 'read by the host' },
    neverOnAzure: { SIM_ONLY: 'simulator only' },
  };

  it('passes a complete, known list', () => {
    expect(compareAppSettings(schema, ['NEEDED', 'PLATFORM_THING'], rules)).toEqual({
      missingRequired: [],
      unknown: [],
      forbidden: [],
      defaulted: ['TUNING'],
    });
  });

  it('fails on a missing required setting, an unknown one (a typo too) and a forbidden one', () => {
    expect(compareAppSettings(schema, ['Needed', 'SIM_ONLY', 'TUNING'], rules)).toEqual({
      missingRequired: ['NEEDED'],
      unknown: ['Needed'],
      forbidden: ['SIM_ONLY'],
      defaulted: [],
    });
  });

  it('fails on the real template when a required setting is dropped or a simulator-only one is added', () => {
    const template = read(FUNCTION_APP);
    const doctored = template
      .replace(/^\s*SECRETS_ENCRYPTION_KEYS: .*$/m, '')
      .replace(/^(\s*)PUBLIC_BASE_URL: /m, "$1GRAPH_THROTTLE_TIME_SCALE: '10'\n$1PUBLIC_BASE_URL: ");
    expect(doctored).not.toBe(template);
    const result = compareAppSettings(
      schemaSettings(configSchema),
      bicepObjectVar(doctored, 'appSettings').keys(),
      RULES,
    );
    expect(result.missingRequired).toEqual(['SECRETS_ENCRYPTION_KEYS']);
    expect(result.forbidden).toEqual(['GRAPH_THROTTLE_TIME_SCALE']);
  });

  it('reads required and optional settings from the real schema', () => {
    const settings = new Map(schemaSettings(configSchema).map((s) => [s.name, s.required]));
    expect(settings.get('SECRETS_ENCRYPTION_KEYS')).toBe(true);
    expect(settings.get('PUBLIC_BASE_URL')).toBe(false);
    expect(settings.get('GRAPH_THROTTLE_TIME_SCALE')).toBe(false);
    expect(settings.get('AzureWebJobsStorage')).toBe(false); // one of two styles: checked by parseStorageSettings
  });
});

describe('the Bicep literal reader', () => {
  const source = [
    'var other = { a: 1 }',
    'var appSettings = {',
    "  // a comment with a brace { and a quote '",
    "  PLAIN: 'value with \\'quotes\\' and a // not-a-comment'",
    "  'QUOTED_KEY': 'x'",
    "  INTERPOLATED: 'https://${site.properties.defaultHostName}/{x}'",
    "  NESTED: 'a${concat('}', '{')}b'",
    '  EXPRESSION: storage.outputs.name /* trailing */',
    '  OBJECT: {',
    "    inner: 'v'",
    '  }',
    '}',
    'var names = [',
    "  'one'",
    "  'two' // second",
    ']',
    "var inline = ['a', 'b']",
  ].join('\n');

  it('reads each property as written, and the string of plain literals', () => {
    const settings = bicepObjectVar(source, 'appSettings');
    expect([...settings.keys()]).toEqual(['PLAIN', 'QUOTED_KEY', 'INTERPOLATED', 'NESTED', 'EXPRESSION', 'OBJECT']);
    expect(settings.get('PLAIN')).toEqual({
      raw: "'value with \\'quotes\\' and a // not-a-comment'",
      literal: "value with 'quotes' and a // not-a-comment",
    });
    expect(settings.get('QUOTED_KEY')?.literal).toBe('x');
    expect(settings.get('INTERPOLATED')).toEqual({ raw: "'https://${site.properties.defaultHostName}/{x}'" });
    expect(settings.get('NESTED')).toEqual({ raw: "'a${concat('}', '{')}b'" });
    expect(settings.get('EXPRESSION')).toEqual({ raw: 'storage.outputs.name' });
    expect(settings.get('OBJECT')?.raw).toMatch(/^\{\s+inner: 'v'\s+\}$/);
  });

  it('reads string arrays, multi-line or inline, and refuses anything but literals', () => {
    expect(bicepStringArrayVar(source, 'names')).toEqual(['one', 'two']);
    expect(bicepStringArrayVar(source, 'inline')).toEqual(['a', 'b']);
    expect(() => bicepStringArrayVar("var q = [\n  'a'\n  prefix\n]", 'q')).toThrow(
      /prefix is not a plain string literal/,
    );
    expect(() => bicepStringArrayVar("var q = [\n  '${p}-x'\n]", 'q')).toThrow(/not a plain string literal/);
    expect(() => bicepObjectVar(source, 'missing')).toThrow(/no "var missing = \{…" in the Bicep source/);
    expect(() => bicepObjectVar("var s = {\n  A: 'x'\n  A: 'y'\n}", 's')).toThrow(/"A" is set twice/);
  });

  it('knows which values are plain literals', () => {
    expect(literalString("'a\\nb'")).toBe('a\nb');
    expect(literalString("'\\${not interpolated}'")).toBe('${not interpolated}');
    expect(literalString("'''multi\nline'''")).toBe('multi\nline');
    expect(literalString('true')).toBeUndefined();
    expect(literalString("'a' == 'b'")).toBeUndefined();
  });

  it('finds where each infra file came from when a check fails', () => {
    expect(filesUnder('infra').map((f) => relative('infra', f))).toEqual(
      expect.arrayContaining(['main.bicep', join('app', 'function-app.bicep'), join('app', 'storage.bicep')]),
    );
  });
});
