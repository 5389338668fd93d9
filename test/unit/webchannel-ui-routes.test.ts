/**
 * The bundled UI's routes on a bare Hono app. Needs dist/ui, which the build writes
 * (scripts/build-ui.mjs runs as part of `npm run build`).
 */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { registerUiRoutes } from '../../packages/openclaw-plugin/src/webchannel/ui-routes.js';

const app = new Hono();
registerUiRoutes(app);

describe('UI routes', () => {
  it('serves the page, never cached, under a strict CSP', async () => {
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toMatch(/<script type="module" src="\/ui\/app-\w+\.js"><\/script>/);
  });

  it('serves the hashed assets it links to, cached forever', async () => {
    const page = await (await app.request('/')).text();
    const assets = [...page.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toHaveLength(2);
    for (const asset of assets) {
      const res = await app.request(asset);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(asset.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it('serves nothing else from the UI folder or beyond it', async () => {
    for (const url of ['/ui/index.html', '/ui/nope-123.js', '/ui/..%2F..%2Fpackage.json', '/ui/%2e%2e%2fcli.js']) {
      expect((await app.request(url)).status).toBe(404);
    }
  });
});
