import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
const nsZod = { name: 'nszod', setup(b) { b.onLoad({ filter: /packages\/(protocol|claude-plugin)\/dist\/.*\.js$/ }, async (a) => ({ contents: (await readFile(a.path, 'utf8')).replace(/import \{ z \} from 'zod';/g, "import * as z from 'zod';"), loader: 'js' })); } };
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['bufferutil', 'utf-8-validate'], banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }, minifyWhitespace: true, minifySyntax: true, keepNames: true, metafile: true, logLevel: 'warning' };
const D = 'packages/claude-plugin/dist/';
for (const [name, extra] of [['split', { splitting: true, outdir: '/tmp/b-split' }], ['nszod', { plugins: [nsZod], outfile: '/tmp/b-nszod/bundle.js' }], ['split-nszod', { splitting: true, plugins: [nsZod], outdir: '/tmp/b-split-nszod' }]]) {
  const r = await build({ ...common, ...extra, entryPoints: [D + 'main.js'] });
  console.log(name, Object.entries(r.metafile.outputs).filter(([k]) => k.endsWith('.js')).map(([k, v]) => `${k} ${Math.round(v.bytes / 1024)}KB`).join(', '));
}
