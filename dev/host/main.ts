// `tsx dev/host/main.ts`: runs the app's functions on the local host, like `func start`.
// Reads local.settings.json Values into the environment, host.json for host settings, and prints one JSON
// line {"event":"ready",...} once it listens. SIGINT/SIGTERM stop it cleanly.
import { join } from 'node:path';
import { REPO_ROOT } from '../paths.js';
import { formatLogRecord } from './host-logger.js';
import { applyLocalSettings, readHostJson } from './host-settings.js';
import { DEFAULT_FUNCTION_KEY, startLocalHost } from './local-host.js';

const localSettings = applyLocalSettings(join(REPO_ROOT, 'local.settings.json'));
for (const name of localSettings.skipped) {
  console.error(`Skipping '${name}' from local.settings.json as it's already defined in the environment.`);
}

// Loaded after the settings are applied: the app validates its configuration as it loads. Checked here without
// keeping the result: the app's memoised configuration is read once the host listens, when WEBSITE_HOSTNAME (set
// then, for a port the OS chose) is known.
const { parseConfig } = await import('../../shared/config.js');
const { functionDefinitions } = await import('../../functions/definitions.js');
try {
  parseConfig(process.env);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

const host = await startLocalHost({
  definitions: functionDefinitions,
  settings: readHostJson(join(REPO_ROOT, 'host.json')),
  port: Number(process.env.PORT ?? 7071),
  // http://localhost:<port>, as the OAuth redirect URI registered for local use (127.0.0.1 would be another one).
  localhost: true,
  functionKey: process.env.LOCAL_FUNCTION_KEY || DEFAULT_FUNCTION_KEY,
  // Dev/test only: how long a message being processed stays invisible (a killed host's messages reappear then).
  ...(process.env.LOCAL_HOST_MESSAGE_VISIBILITY_SECONDS
    ? { processingVisibilitySeconds: Number(process.env.LOCAL_HOST_MESSAGE_VISIBILITY_SECONDS) }
    : {}),
  log: (record) => console.error(formatLogRecord(record)),
});
console.error(`Local Functions host listening on ${host.url}/api (function key: ${host.functionKey})`);
console.log(JSON.stringify({ event: 'ready', hostUrl: host.url, functionKey: host.functionKey }));

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping (letting running invocations finish)…`);
    void host.stop().then(async () => {
      const { storageRequestCounts, storageRequestsByOperation } =
        await import('../../shared/storage/storage-clients.js');
      console.log(
        JSON.stringify({
          event: 'stopped',
          storageRequests: storageRequestCounts,
          byOperation: storageRequestsByOperation,
        }),
      );
      process.exit(0);
    });
  });
}
