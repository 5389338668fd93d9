/**
 * Which browser pages may open /ws. A browser always sends Origin on a WebSocket handshake, and
 * without this check any web page the user visits could talk to the gateway (cross-site WebSocket
 * hijacking). Clients that send no Origin are not browsers and are left to authentication.
 */

/** `http://Host:1/` → `http://host:1`, so configured origins compare like browser-sent ones. */
export function normalizeOrigin(origin: string): string | undefined {
  try {
    return new URL(origin).origin;
  } catch {
    return undefined;
  }
}

/**
 * Allowed: no Origin; an origin on the allow-list; or the bundled UI's own origin, i.e. the host
 * the request was sent to. That last rule is safe only because the caller has already checked the
 * Host header (isAllowedHost): a DNS-rebinding page is same-host too, but under a name not served.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowList: readonly string[]): boolean {
  if (origin === undefined) return true;
  const normalized = normalizeOrigin(origin);
  // Opaque origins (file:, sandboxed frames) serialize as "null" and are never ours.
  if (normalized === undefined || normalized === 'null') return false;
  return allowList.includes(normalized) || new URL(normalized).host === host?.toLowerCase();
}
