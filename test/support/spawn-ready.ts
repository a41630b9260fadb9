// Spawns one of our dev entry points as a real process and waits for its {"event":"ready"} JSON line.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from '../../dev/azurite.js';
import { REPO_ROOT } from '../../dev/paths.js';

export interface ReadyProcess<T> {
  child: ChildProcess;
  ready: T;
  /** Everything the process wrote to stderr so far. */
  stderr: () => string;
  stop(): Promise<void>;
}

export async function spawnReady<T = Record<string, unknown>>(
  script: string,
  env: NodeJS.ProcessEnv,
  { timeoutMs = 30_000, args = [] as string[] } = {},
): Promise<ReadyProcess<T>> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script} not ready within ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new ExitedEarly(code, stderr));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const event = JSON.parse(line) as T & { event?: string };
      if (event.event === 'ready') {
        clearTimeout(timer);
        resolve(event);
      }
    });
  });
  return { child, ready, stderr: () => stderr, stop: () => stopChild(child) };
}

export class ExitedEarly extends Error {
  constructor(
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`exited with code ${code} before it was ready:\n${stderr}`);
  }
}
