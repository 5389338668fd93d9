/**
 * The test helpers are TypeScript and the benches plain Node, so esbuild transpiles a helper on
 * demand into bench/.cache/ (git-ignored). Inside the repository, its package imports and
 * import.meta.url lookups resolve as they do for the tests: the benches use the very same helpers.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function importTestHelper(relativePath) {
  const outfile = path.join(ROOT, 'bench/.cache', relativePath.replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [path.join(ROOT, relativePath)],
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}
