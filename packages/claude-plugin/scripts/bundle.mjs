#!/usr/bin/env node
/**
 * Bundles the plugin entry and the Stop hook, each with all its dependencies, into one file:
 * dist/bundle.js and dist/turn-end-hook.bundle.js. Both start once per Claude process (the hook
 * once per turn), and resolving and loading ~200 module files is most of their start-up time
 * (docs/performance.md). Input is tsc's output, so the bundle ships exactly the checked code.
 *
 * Run after `tsc -b`: `node packages/claude-plugin/scripts/bundle.mjs`.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

await build({
  entryPoints: { bundle: `${dist}main.js`, 'turn-end-hook.bundle': `${dist}turn-end-hook.js` },
  outdir: dist,
  bundle: true,
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
