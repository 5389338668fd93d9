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
 * It also writes the script of the plugin's V8 startup snapshot (src/snapshot-main.ts): one
 * CommonJS file, dist/plugin-snapshot.cjs, because `node --build-snapshot` runs a single script.
 * `ws` stays out of it (it loads node:http, which a Node 20 snapshot cannot hold) and is loaded at
 * run time from dist/plugin-snapshot-ws.cjs.
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

/**
 * In the snapshot, `ws` is a stand-in that loads the real module from its own bundle on first use
 * (the plugin only touches it at run time, when it dials the bridge). `__filename` is the snapshot
 * script's path, captured when the snapshot was built; the two files sit side by side in dist/.
 */
const SNAPSHOT_DEFERRED = [
  {
    filter: /^ws$/,
    importer: /\/bridge-client\.js$/,
    contents: () => `const { createRequire } = require('node:module');
let ws;
const load = () => (ws ??= createRequire(__filename)('./plugin-snapshot-ws.cjs'));
module.exports = new Proxy(function WebSocket() {}, {
  construct: (_, args) => Reflect.construct(load(), args),
  get: (_, key) => load()[key],
});`,
  },
];

/** Swaps each module matched by `rules` (path and importer) for the rule's stand-in source. */
const standIns = (rules) => ({
  name: 'stand-ins',
  setup(b) {
    for (const rule of rules) {
      b.onResolve({ filter: rule.filter }, (args) =>
        rule.importer.test(args.importer) ? { path: args.path, namespace: 'stand-in', pluginData: rule } : undefined,
      );
    }
    b.onLoad({ filter: /.*/, namespace: 'stand-in' }, (args) => ({ contents: args.pluginData.contents(args.path), loader: 'js' }));
  },
});

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // Optional native speed-ups of `ws`, loaded in a try/catch when installed.
  external: ['bufferutil', 'utf-8-validate'],
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
};

await build({
  ...common,
  // dist/bundle.js sits next to dist/version.js, so its `../package.json` still resolves.
  entryPoints: { bundle: `${dist}main.js` },
  outdir: dist,
  chunkNames: 'bundle-chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  plugins: [standIns(LEFT_OUT)],
  // CommonJS dependencies (pino, ws) call require() for Node built-ins, which an ES module
  // bundle only has when it creates one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  sourcemap: 'linked',
});

await build({
  ...common,
  entryPoints: { 'plugin-snapshot': `${dist}snapshot-main.js` },
  outdir: dist,
  outExtension: { '.js': '.cjs' },
  format: 'cjs',
  plugins: [standIns([...LEFT_OUT, ...SNAPSHOT_DEFERRED])],
  // version.js reads ../package.json relative to import.meta.url, which CommonJS does not have.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

await build({
  ...common,
  stdin: { contents: "module.exports = require('ws');", resolveDir: dist, loader: 'js' },
  outfile: `${dist}plugin-snapshot-ws.cjs`,
  format: 'cjs',
  plugins: [standIns(LEFT_OUT)],
});
