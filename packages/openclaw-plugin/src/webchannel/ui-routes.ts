/**
 * Serves the bundled chat UI that scripts/build-ui.mjs writes to dist/ui: the page at `/` and its
 * content-hashed assets under `/ui/`. The page is always revalidated; an asset's name changes
 * with its content, so browsers may keep it forever.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env, Hono, Schema } from 'hono';

/** The package's dist/ui/, found the same way from dist/webchannel/ and (under tests) src/webchannel/. */
const UI_DIR = fileURLToPath(new URL('../../dist/ui/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Only what the build writes: `app-HASH.js`, `app-HASH.css` and their source maps. No paths. */
const ASSET_NAME = /^[\w-]+\.(?:js|css)(?:\.map)?$/;

// The page loads nothing but its own assets and talks only to its own origin's /ws.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

async function readUiFile(name: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path.join(UI_DIR, name));
  } catch {
    return undefined;
  }
}

export function registerUiRoutes<E extends Env, S extends Schema, B extends string>(app: Hono<E, S, B>): void {
  app.get('/', async (c) => {
    const page = await readUiFile('index.html');
    if (!page) return c.text('the web UI is not built: run `npm run build`', 503);
    return c.body(new Uint8Array(page), 200, PAGE_HEADERS);
  });
  app.get('/ui/:file', async (c) => {
    const name = c.req.param('file') ?? '';
    const body = ASSET_NAME.test(name) ? await readUiFile(name) : undefined;
    if (!body) return c.notFound();
    return c.body(new Uint8Array(body), 200, {
      'content-type': CONTENT_TYPES[path.extname(name)] ?? 'application/octet-stream',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    });
  });
}
