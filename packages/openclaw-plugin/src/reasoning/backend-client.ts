/**
 * Where the reasoning backend's endpoints are and how we speak to them. Paths are appended to the
 * base URL as text (not resolved with `new URL`), so a base URL with a path prefix keeps it.
 */
import type { GatewayConfig } from '../config.js';

export interface BackendEndpoints {
  stream: string;
  heartbeat: string;
  complete(jobId: string): string;
  /** The Bearer relay token header, for every request; never logged. */
  auth: Record<string, string>;
}

export function backendEndpoints(
  config: Pick<GatewayConfig, 'reasoningUrl' | 'reasoningCompletePath'>,
  integrationId: string,
  relayToken: string,
): BackendEndpoints {
  const base = (config.reasoningUrl ?? '').replace(/\/+$/, '');
  const id = encodeURIComponent(integrationId);
  const integration = `${base}/api/v1/openclaw/integrations/${id}`;
  return {
    stream: `${integration}/stream`,
    heartbeat: `${integration}/heartbeat`,
    complete: (jobId) =>
      base + config.reasoningCompletePath.replaceAll('{id}', id).replaceAll('{job_id}', encodeURIComponent(jobId)),
    auth: { authorization: `Bearer ${relayToken}` },
  };
}

export interface PostAnswer {
  status: number;
  /** Retry-After in milliseconds, when the backend sent it as seconds. */
  retryAfterMs?: number;
  /** The start of the answer's body, for error logs. */
  bodyStart: string;
}

/** One JSON POST; rejects on network failure, when `timeoutMs` passes without an answer, or on `cancel`. */
export async function postJson(
  url: string,
  auth: Record<string, string>,
  body: unknown,
  timeoutMs: number,
  cancel?: AbortSignal,
): Promise<PostAnswer> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: cancel ? AbortSignal.any([timeout, cancel]) : timeout,
  });
  // Read in full even when unused, so the connection can be reused.
  const text = await response.text();
  const retryAfter = Number(response.headers.get('retry-after') || Number.NaN);
  return {
    status: response.status,
    ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    bodyStart: text.slice(0, 200),
  };
}
