/**
 * The WebSocket server every spawned claude-plugin dials (`ws://127.0.0.1:<port>/bridge`).
 *
 * Connection rules (docs/wire-protocol.md):
 * - The first frame must be a `hello` naming a session this gateway spawned, carrying that
 *   process's token. Anything else before it earns an `error`; no hello within
 *   HELLO_TIMEOUT_MS, an unknown session or a wrong token closes the socket (1008).
 * - After hello, a bad frame earns a typed `error` and the connection stays up: one malformed
 *   frame must not kill a live Claude session.
 * - `ping` every pingMs; a peer that leaves 2 pings unanswered is terminated.
 * - Upgrades that carry an `Origin` header are refused: only local processes, never a browser
 *   page, may connect.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  MAX_BRIDGE_FRAME_BYTES,
  PluginToGatewaySchema,
  TURN_END_PATH,
  TurnEndSchema,
  bridgeError,
  parseFrame,
  type BridgeError,
  type GatewayToPlugin,
  type Hello,
  type PluginToGateway,
  type TurnEnd,
} from '@synthesis-agent/protocol';
import type { Logger } from './logger.js';

const HELLO_TIMEOUT_MS = 10_000;
const POLICY_VIOLATION = 1008;

export interface BridgePeer {
  readonly pid: number;
  send(message: GatewayToPlugin): void;
  close(reason: string): void;
}

/** What a session does with its plugin's frames once hello routed the connection to it. */
export interface BridgeHandler {
  onMessage(message: Exclude<PluginToGateway, Hello | { type: 'pong' }>): void;
  onClose(): void;
}

export interface BridgeRoutes {
  /** Routes a hello to its session, or says why it is refused. */
  attach(hello: Hello, peer: BridgePeer): BridgeHandler | BridgeError;
  /** A Stop hook reports (POST /turn-end) that Claude finished its turn; undefined when accepted. */
  turnEnded(message: TurnEnd): BridgeError | undefined;
}

export interface BridgeServerOptions {
  host: string;
  port: number;
  pingMs: number;
  routes: BridgeRoutes;
  logger: Logger;
  onConnectionCount?: (count: number) => void;
}

export interface BridgeServer {
  url: string;
  close(): Promise<void>;
}

export async function startBridgeServer(options: BridgeServerOptions): Promise<BridgeServer> {
  const { logger } = options;
  const server = createServer((req, res) => {
    // A client that goes away mid-body rejects the body read (ECONNRESET "aborted"); unhandled,
    // that rejection would end the gateway process and orphan every Claude it runs.
    serveTurnEnd(req, res, options.routes).catch((err: Error) => {
      logger.debug({ err: err.message }, 'turn-end request failed');
      res.destroy();
    });
  });
  const wss = new WebSocketServer({
    server,
    path: '/bridge',
    maxPayload: MAX_BRIDGE_FRAME_BYTES,
    verifyClient: ({ req }: { req: IncomingMessage }) => req.headers.origin === undefined,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'bridge server error'));
  wss.on('error', (err) => logger.error({ err }, 'bridge server error'));
  wss.on('connection', (ws) => {
    options.onConnectionCount?.(wss.clients.size);
    ws.once('close', () => options.onConnectionCount?.(wss.clients.size));
    serveConnection(ws, options);
  });

  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://${options.host}:${port}/bridge`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const MAX_TURN_END_BYTES = 64 * 1024;

/**
 * `POST /turn-end` from a Claude's Stop hook: 204 when accepted, else the typed error as JSON.
 * Like the socket, it refuses anything a browser could send (an Origin header).
 */
async function serveTurnEnd(req: IncomingMessage, res: ServerResponse, routes: BridgeRoutes): Promise<void> {
  const reply = (status: number, error?: BridgeError) => {
    res.writeHead(status, error ? { 'content-type': 'application/json' } : {});
    res.end(error ? JSON.stringify(error) : undefined);
  };
  if (req.url !== TURN_END_PATH) return reply(404, bridgeError('unexpected_message', `no route ${req.url ?? ''} on the bridge port`));
  if (req.method !== 'POST') return reply(405, bridgeError('unexpected_message', 'use POST'));
  if (req.headers.origin !== undefined) return reply(403, bridgeError('unauthorized', 'browsers may not talk to the bridge'));
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_TURN_END_BYTES) return reply(413, bridgeError('invalid_message', 'turn_end body too large'));
  }
  const parsed = parseFrame(TurnEndSchema, body);
  if (!parsed.ok) return reply(400, parsed.error);
  const refused = routes.turnEnded(parsed.value);
  if (!refused) return reply(204);
  return reply(refused.code === 'unknown_session' ? 404 : 403, refused);
}

function serveConnection(ws: WebSocket, { routes, pingMs, logger }: BridgeServerOptions): void {
  let handler: BridgeHandler | undefined;
  let unansweredPings = 0;
  const send = (message: GatewayToPlugin) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const refuse = (error: BridgeError) => {
    send(error);
    ws.close(POLICY_VIOLATION, error.code);
  };

  const helloTimer = setTimeout(() => refuse(bridgeError('unexpected_message', 'no hello received in time')), HELLO_TIMEOUT_MS);
  const pingTimer = setInterval(() => {
    if (unansweredPings >= 2) {
      logger.warn({ pid: peer.pid }, 'bridge peer missed 2 pongs; terminating');
      ws.terminate();
      return;
    }
    unansweredPings++;
    send({ type: 'ping' });
  }, pingMs);

  const peer: BridgePeer & { pid: number } = {
    pid: 0,
    send,
    close: (reason) => ws.close(1000, reason.slice(0, 120)),
  };

  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      send(bridgeError('invalid_message', 'binary frames are not part of the bridge protocol'));
      return;
    }
    const parsed = parseFrame(PluginToGatewaySchema, data.toString());
    if (!parsed.ok) {
      logger.warn({ pid: peer.pid, error: parsed.error.message }, 'bad bridge frame');
      send(parsed.error);
      return;
    }
    const message = parsed.value;
    if (message.type === 'pong') {
      unansweredPings = 0;
      return;
    }
    if (message.type === 'hello') {
      if (handler) {
        send(bridgeError('unexpected_message', 'hello already received on this connection'));
        return;
      }
      clearTimeout(helloTimer);
      peer.pid = message.pid;
      const routed = routes.attach(message, peer);
      if ('type' in routed) {
        logger.warn({ session: message.openclaw_session, pid: message.pid, code: routed.code }, 'bridge hello refused');
        refuse(routed);
        return;
      }
      handler = routed;
      send({ type: 'hello_ack' });
      return;
    }
    if (!handler) {
      send(bridgeError('unexpected_message', `expected hello first, got ${message.type}`));
      return;
    }
    handler.onMessage(message);
  });

  ws.on('error', (err) => logger.warn({ err, pid: peer.pid }, 'bridge socket error'));
  ws.on('close', () => {
    clearTimeout(helloTimer);
    clearInterval(pingTimer);
    handler?.onClose();
  });
}
