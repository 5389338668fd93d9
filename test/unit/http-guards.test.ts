/** The HTTP guards and the start-up bind rule, without a server: a Hono app answers in memory. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { apiKeyGuard, checkBindHost, hostGuard, isAllowedHost, isLoopbackHost } from '../../packages/openclaw-plugin/src/http-guards.js';

describe('isAllowedHost (DNS-rebinding guard)', () => {
  it.each(['localhost', 'localhost:18900', '127.0.0.1', '127.0.0.1:80', '127.1.2.3:9', '[::1]', '[::1]:18900', 'LOCALHOST:1'])(
    'accepts the loopback name %s',
    (host) => expect(isAllowedHost(host, [], '127.0.0.1')).toBe(true),
  );

  it.each([
    'evil.example',
    'evil.example:18900',
    // Names an attacker can resolve to 127.0.0.1 while they merely start like a loopback name.
    '127.0.0.1.evil.example',
    '127.evil.example',
    'localhost.evil.example',
    '0.0.0.0',
    '',
  ])('refuses %j', (host) => expect(isAllowedHost(host, [], '127.0.0.1')).toBe(false));

  it('refuses a request without Host', () => expect(isAllowedHost(undefined, [], '127.0.0.1')).toBe(false));

  it('accepts the bind host and --allowed-host names, case-insensitively', () => {
    expect(isAllowedHost('gw.lan:18900', [], 'gw.lan')).toBe(true);
    expect(isAllowedHost('Box.Example', ['box.example'], '0.0.0.0')).toBe(true);
    expect(isAllowedHost('other.example', ['box.example'], '0.0.0.0')).toBe(false);
  });

  it('answers 421 with an OpenAI error naming the option to fix it', async () => {
    const app = new Hono().use('*', hostGuard([], '127.0.0.1')).get('/x', (c) => c.text('ok'));
    const refused = await app.request('http://evil.example/x', { headers: { host: 'evil.example' } });
    expect(refused.status).toBe(421);
    expect(await refused.json()).toMatchObject({ error: { code: 'host_not_allowed', message: expect.stringContaining('--allowed-host') } });
    expect((await app.request('http://localhost/x', { headers: { host: 'localhost:1' } })).status).toBe(200);
  });
});

describe('apiKeyGuard', () => {
  const app = new Hono().use('*', apiKeyGuard('s3cret-key')).get('/v1/models', (c) => c.text('ok'));
  const get = (authorization?: string) =>
    app.request('http://localhost/v1/models', { headers: authorization === undefined ? {} : { authorization } });

  it.each([undefined, '', 'Bearer', 'Bearer wrong', 'Bearer s3cret-ke', 'Bearer s3cret-key2', 'Basic s3cret-key', 's3cret-key'])(
    'answers 401 to authorization %j',
    async (authorization) => {
      const res = await get(authorization);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    },
  );

  it.each(['Bearer s3cret-key', 'bearer s3cret-key', 'Bearer   s3cret-key  '])('lets %j through', async (authorization) => {
    expect((await get(authorization)).status).toBe(200);
  });

  it('checks nothing without a configured key', async () => {
    const open = new Hono().use('*', apiKeyGuard(undefined)).get('/v1/models', (c) => c.text('ok'));
    expect((await open.request('http://localhost/v1/models')).status).toBe(200);
  });
});

describe('bind rule', () => {
  it.each(['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1'])('treats %s as loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
    expect(checkBindHost(host, undefined)).toEqual({ ok: true });
  });

  it.each(['0.0.0.0', '::', '192.168.1.10', 'gw.lan', '127.0.0.1.nip.io'])('refuses %s without --api-key', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
    const check = checkBindHost(host, undefined);
    expect(check.ok).toBe(false);
    expect(!check.ok && check.error).toMatch(/--api-key/);
  });

  it('allows a non-loopback host with --api-key, with a warning', () => {
    const check = checkBindHost('0.0.0.0', 'key');
    expect(check.ok).toBe(true);
    expect(check.ok && check.warning).toMatch(/non-loopback/);
  });
});
