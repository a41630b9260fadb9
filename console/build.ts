// Builds the admin console (console/src, Preact) into dist/console: one hashed JS and one hashed CSS bundle and the
// index.html that names them. `npm run build` runs it after tsc; `npm start` and the test suite run it too, so the
// host always serves the console of the code it runs. Prints the bundle's size (raw and gzip) as one JSON line.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const CONSOLE_DIR = fileURLToPath(new URL('.', import.meta.url));
/** Where the built console goes (the console-static function serves it from there). */
export const CONSOLE_OUT_DIR = join(CONSOLE_DIR, '..', 'dist', 'console');
/** The path the console is served under (functions/http/console-static.ts, host.json routePrefix "api"). */
export const CONSOLE_BASE_PATH = '/api/console/';

export interface ConsoleBuild {
  outDir: string;
  files: { name: string; bytes: number; gzipBytes: number }[];
  gzipBytes: number;
}

export async function buildConsole(outDir = CONSOLE_OUT_DIR): Promise<ConsoleBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    entryPoints: [join(CONSOLE_DIR, 'src', 'main.tsx')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: outDir,
    metafile: true,
    legalComments: 'linked',
    logLevel: 'warning',
    loader: { '.css': 'css' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const script = outputs.find((f) => f.endsWith('.js'));
  const style = outputs.find((f) => f.endsWith('.css'));
  if (!script || !style) throw new Error(`console build produced no script or stylesheet: ${outputs.join(', ')}`);
  const template = await readFile(join(CONSOLE_DIR, 'index.html'), 'utf8');
  await writeFile(
    join(outDir, 'index.html'),
    template.replace('%SCRIPT%', CONSOLE_BASE_PATH + script).replace('%STYLE%', CONSOLE_BASE_PATH + style),
  );
  const files = await Promise.all(
    ['index.html', script, style].map(async (name) => {
      const content = await readFile(join(outDir, name));
      return { name, bytes: content.length, gzipBytes: gzipSync(content, { level: 9 }).length };
    }),
  );
  return { outDir, files, gzipBytes: files.reduce((sum, f) => sum + f.gzipBytes, 0) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const built = await buildConsole();
  console.log(JSON.stringify({ event: 'console-built', ...built }));
}
