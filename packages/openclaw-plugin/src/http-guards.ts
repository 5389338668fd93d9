/**
 * Request guards in front of every HTTP route: Host checking against DNS rebinding (a web page
 * on evil.example resolving to 127.0.0.1 must not reach a local gateway) and the optional API key;
 * plus the start-up rule that a gateway reachable from other machines must have an API key.
 */
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './openai-format.js';
import { safeEqual } from './safe-equal.js';

/** `localhost:18900` → `localhost`, `[::1]:80` → `[::1]`. */
function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1);
  return trimmed.split(':')[0] ?? '';
}

/** Whether a listen address reaches only this machine (`0.0.0.0`, `::` and real interfaces do not). */
export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export type BindCheck = { ok: true; warning?: string } | { ok: false; error: string };

/**
 * A non-loopback listen address puts the OpenAI routes, and through them a Claude Code that runs
 * tools on this machine, in reach of the network: allowed only with --api-key, and never silently.
 */
export function checkBindHost(host: string, apiKey: string | undefined): BindCheck {
  if (isLoopbackHost(host)) return { ok: true };
  if (!apiKey) {
    return {
      ok: false,
      error:
        `refusing to listen on ${host}: it is reachable from other machines, and anyone there could drive ` +
        'Claude Code on this one. Set --api-key (SYNTHESIS_API_KEY) to require "Authorization: Bearer <key>", ' +
        'or listen on a loopback address (--host 127.0.0.1).',
    };
  }
  return {
    ok: true,
    warning:
      `listening on non-loopback address ${host}: the OpenAI routes, /healthz and /metrics require the API key; ` +
      'clients must use a Host name given with --allowed-host (DNS-rebinding guard)',
  };
}

export function isAllowedHost(host: string | undefined, allowed: string[], bindHost: string): boolean {
  if (!host) return false;
  const name = hostName(host);
  // Whole-name matches only: "127.0.0.1.evil.example" is a name an attacker can point at 127.0.0.1.
  if (isLoopbackHost(name)) return true;
  return name === bindHost.toLowerCase() || allowed.some((a) => a.toLowerCase() === name);
}

export function hostGuard(allowed: string[], bindHost: string): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host');
    if (!isAllowedHost(host, allowed, bindHost)) {
      return c.json(
        errorBody(421, 'host_not_allowed', `Host "${host ?? ''}" is not served here; add it with --allowed-host if it is yours`),
        421,
      );
    }
    return next();
  };
}

export function apiKeyGuard(apiKey: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (!apiKey) return next();
    const given = /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim() ?? '';
    if (!safeEqual(given, apiKey)) {
      return c.json(errorBody(401, 'invalid_api_key', 'missing or wrong API key: send "Authorization: Bearer <--api-key>"'), 401);
    }
    return next();
  };
}
