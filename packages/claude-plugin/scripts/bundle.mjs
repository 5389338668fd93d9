#!/usr/bin/env node
/**
 * Bundles the plugin entry with all its dependencies into dist/bundle.js plus the chunks it
 * imports lazily (dist/bundle-chunks/). The plugin starts once per Claude process, and resolving
 * and loading ~290 module files was most of its start-up time (docs/performance.md). Splitting
 * keeps the MCP SDK, which main.ts imports only after dialing the bridge, out of the file that
 * must be parsed before the hello goes out. Input is tsc's output, so the bundle ships exactly
 * the type-checked code.
 *
 * Modules the plugin can never reach are left out (see LEFT_OUT): each is swapped for a stand-in
 * that throws if it is ever used, so a wrong assumption fails loudly instead of silently.
 *
 * Run after `tsc -b`: `node packages/claude-plugin/scripts/bundle.mjs`.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// Chunk names carry content hashes; old ones would pile up.
rmSync(`${dist}bundle-chunks`, { recursive: true, force: true });

const fail = (name) => `throw new Error(${JSON.stringify(`${name} is left out of the claude-plugin bundle (scripts/bundle.mjs)`)})`;
/**
 * Loaded at start-up by dependencies but unreachable in the plugin; leaving them out saves start
 * time and memory (docs/performance.md). `ws` requires `https`/`tls` for wss:// URLs (the bridge
 * is ws:// on loopback) and `zlib` for permessage-deflate (the plugin turns it off). The MCP SDK's
 * server imports Ajv to validate elicitation answers against a JSON Schema; the channel server
 * never elicits.
 */
const LEFT_OUT = [
  {
    filter: /^(node:)?(https|tls|zlib)$/,
    importer: /node_modules\/ws\//,
    contents: (name) => `module.exports = new Proxy({}, { get() { ${fail(name)}; } });`,
  },
  {
    // The server constructs the validator up front but only asks it for a validator on elicitation.
    filter: /\/validation\/ajv-provider\.js$/,
    importer: /@modelcontextprotocol\/sdk\//,
    contents: (name) => `export class AjvJsonSchemaValidator { getValidator() { ${fail(name)}; } }`,
  },
];

const leaveOut = {
  name: 'leave-out',
  setup(b) {
    for (const rule of LEFT_OUT) {
      b.onResolve({ filter: rule.filter }, (args) =>
        rule.importer.test(args.importer) ? { path: args.path, namespace: 'left-out', pluginData: rule } : undefined,
      );
    }
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({ contents: args.pluginData.contents(args.path), loader: 'js' }));
  },
};

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
  plugins: [leaveOut],
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
