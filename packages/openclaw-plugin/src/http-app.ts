/** The gateway's HTTP routes. Every error a client can cause is answered as OpenAI error JSON. */
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { chatCompletionsHandler, type ChatCompletionsOptions } from './chat-completions.js';
import { apiKeyGuard, hostGuard } from './http-guards.js';
import { errorBody } from './openai-format.js';
import type { SessionManager } from './session-manager.js';

export const SERVED_MODEL = 'claude-code';

export interface HttpAppOptions extends Omit<ChatCompletionsOptions, 'core'> {
  core: SessionManager;
  maxBodyBytes: number;
  apiKey?: string | undefined;
  allowedHosts: string[];
  bindHost: string;
  limits: { maxSessions: number; idleTimeoutMs: number; queueDepth: number };
  version: string;
}

export type GatewayApp = Hono<{ Bindings: HttpBindings }>;

export function createHttpApp(options: HttpAppOptions): GatewayApp {
  const app: GatewayApp = new Hono();
  const startedAt = Date.now();

  app.use('*', hostGuard(options.allowedHosts, options.bindHost));
  // /healthz and /metrics name sessions, workspaces and pids: as private as the chat routes.
  for (const path of ['/v1/*', '/healthz', '/metrics']) app.use(path, apiKeyGuard(options.apiKey));

  app.post(
    '/v1/chat/completions',
    declaredBodyLimit(options.maxBodyBytes, (c) =>
      c.json(errorBody(413, 'request_too_large', `request body exceeds ${options.maxBodyBytes} bytes (--max-body-bytes)`), 413),
    ),
    chatCompletionsHandler(options),
  );
  app.all('/v1/chat/completions', (c) =>
    c.json(errorBody(405, 'method_not_allowed', `use POST for /v1/chat/completions, not ${c.req.method}`), 405),
  );

  app.get('/v1/models', (c) =>
    c.json({
      object: 'list',
      data: [{ id: SERVED_MODEL, object: 'model', created: Math.floor(startedAt / 1000), owned_by: 'synthesis-agent' }],
    }),
  );

  app.get('/healthz', (c) =>
    c.json({
      status: 'ok',
      version: options.version,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      liveSessions: options.core.liveSessions(),
      queued: options.core.queueDepth(),
      limits: options.limits,
      sessions: options.core.sessions(),
    }),
  );

  app.get('/metrics', async (c) => {
    const { registry } = options.metrics;
    return c.text(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });

  app.notFound((c) => c.json(errorBody(404, 'not_found', `no route for ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => {
    options.logger.error({ err }, 'unhandled error in an HTTP route');
    return c.json(errorBody(500, 'internal_error', 'internal gateway error; see the gateway log'), 500);
  });
  return app;
}

/**
 * Hono's bodyLimit reads `c.req.raw.body`, which turns node-server's lightweight request into a
 * full web Request with a ReadableStream, a cost every turn would pay (docs/performance.md). A
 * declared Content-Length is checked from the header instead (Node's parser never reads past it);
 * only bodies without one (chunked) go through bodyLimit, which counts them as they stream.
 */
function declaredBodyLimit(maxSize: number, onError: (c: Context) => Response): MiddlewareHandler {
  const streamed = bodyLimit({ maxSize, onError });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    if (Number(length) > maxSize) return onError(c);
    await next();
  };
}
