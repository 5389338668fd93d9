/**
 * Request guards in front of every HTTP route: Host checking against DNS rebinding (a web page
 * on evil.example resolving to 127.0.0.1 must not reach a local gateway) and the optional API key.
 */
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { errorBody } from './openai-format.js';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** `localhost:18900` → `localhost`, `[::1]:80` → `[::1]`. */
function hostName(host: string): string {
  const trimmed = host.trim().toLowerCase();
  if (trimmed.startsWith('[')) return trimmed.slice(0, trimmed.indexOf(']') + 1);
  return trimmed.split(':')[0] ?? '';
}

export function isAllowedHost(host: string | undefined, allowed: string[], bindHost: string): boolean {
  if (!host) return false;
  const name = hostName(host);
  if (LOOPBACK_NAMES.has(name) || name.startsWith('127.')) return true;
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
  const expected = apiKey ? Buffer.from(apiKey) : undefined;
  return async (c, next) => {
    if (!expected) return next();
    const header = c.req.header('authorization') ?? '';
    const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return c.json(errorBody(401, 'invalid_api_key', 'missing or wrong API key: send "Authorization: Bearer <--api-key>"'), 401);
    }
    return next();
  };
}
