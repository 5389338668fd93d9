#!/usr/bin/env node
/**
 * Builds the bundled chat UI into dist/ui: type-checks ui/ (esbuild only strips types), bundles
 * ui/app.ts and ui/style.css under content-hashed names, and writes index.html pointing at them.
 * Run after `tsc -b`: the bundle imports @synthesis-agent/protocol from its dist.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const uiDir = path.join(root, 'ui');
const outDir = path.join(root, 'dist', 'ui');

function typeCheck() {
  const configFile = path.join(uiDir, 'tsconfig.json');
  const { config } = ts.readConfigFile(configFile, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, uiDir);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
  if (diagnostics.length === 0) return;
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.exit(1);
}

/**
 * Lets esbuild drop the protocol modules the UI does not use (bridge, reasoning, BYO crypto and
 * their zod schemas): it may only do that for modules declared free of side effects, and the
 * protocol package's are, though its package.json does not say so.
 */
const protocolIsSideEffectFree = {
  name: 'protocol-is-side-effect-free',
  setup(builder) {
    const protocolDist = `${path.sep}packages${path.sep}protocol${path.sep}dist${path.sep}`;
    builder.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === protocolIsSideEffectFree) return undefined;
      const resolved = await builder.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: protocolIsSideEffectFree });
      return resolved.path.includes(protocolDist) ? { ...resolved, sideEffects: false } : resolved;
    });
  },
};

typeCheck();
// Hashed names change with every edit: clear old bundles instead of letting them pile up.
rmSync(outDir, { recursive: true, force: true });
const result = await build({
  entryPoints: [path.join(uiDir, 'app.ts'), path.join(uiDir, 'style.css')],
  outdir: outDir,
  entryNames: '[name]-[hash]',
  bundle: true,
  format: 'esm',
  // WebCrypto X25519, which E2E needs, arrived in these; older ones still chat without E2E.
  target: ['chrome120', 'firefox120', 'safari17'],
  minify: true,
  sourcemap: true,
  metafile: true,
  plugins: [protocolIsSideEffectFree],
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const asset = (ext) => `/ui/${outputs.find((name) => name.endsWith(ext))}`;
const page = readFileSync(path.join(uiDir, 'index.html'), 'utf8').replace('%APP_JS%', asset('.js')).replace('%APP_CSS%', asset('.css'));
writeFileSync(path.join(outDir, 'index.html'), page);
