#!/usr/bin/env node
/**
 * Bundles the plugin entry with all its dependencies into dist/bundle.js plus the chunks it
 * imports lazily (dist/bundle-chunks/). The plugin starts once per Claude process, and resolving
 * and loading ~290 module files was most of its start-up time (docs/performance.md). Splitting
 * keeps the MCP SDK, which main.ts imports only after dialing the bridge, out of the file that
 * must be parsed before the hello goes out. Input is tsc's output, so the bundle ships exactly
 * the type-checked code.
 *
 * Run after `tsc -b`: `node packages/claude-plugin/scripts/bundle.mjs`.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Chunk names carry content hashes; old ones would pile up.
rmSync(`${dist}bundle-chunks`, { recursive: true, force: true });

await build({
  // dist/bundle.js sits next to dist/main.js, so main's `../package.json` still resolves.
  entryPoints: { bundle: `${dist}main.js` },
  outdir: dist,
  chunkNames: 'bundle-chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Optional native speed-ups of `ws`, loaded in a try/catch when installed.
  external: ['bufferutil', 'utf-8-validate'],
  // CommonJS dependencies (pino, ws) call require() for Node built-ins, which an ES module
  // bundle only has when it creates one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
});
