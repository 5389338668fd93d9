/**
 * The webchannel_v1 front door: browser UIs talk to sessions over a WebSocket at /ws on the
 * gateway's HTTP port. The gateway hands each `upgrade` for /ws to `handleUpgrade`; this module
 * checks the Origin, parses frames and passes valid envelopes to the handlers.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  MAX_WEBCHANNEL_FRAME_BYTES,
  UI_TO_CORE_EVENTS,
  UNKNOWN_SESSION_ID,
  makeEnvelope,
  parseEnvelope,
  type Envelope,
  type WebchannelEventType,
} from '@synthesis-agent/protocol';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { GatewayConfig } from '../config.js';
import { isAllowedHost } from '../http-guards.js';
import type { Logger } from '../logger.js';
import type { SessionCore } from '../turn.js';
import { PendingApprovals } from './approvals.js';
import { createAuthenticator } from './auth.js';
import { createHandlers, type Connection, type Handler } from './handlers.js';
import { loadOrCreateKeys } from './keys.js';
import { normalizeOrigin, originAllowed } from './origin.js';
import { PairingCodes } from './pairing.js';
import { AccessTokens } from './tokens.js';

/**
 * What `ws` buffers at most. Frames between the protocol limit and this get a `frame_too_large`
 * error so the sender learns why; beyond it `ws` closes the socket with 1009 before reading more.
 */
const MAX_BUFFERED_FRAME_BYTES = 4 * MAX_WEBCHANNEL_FRAME_BYTES;

type Handlers = Partial<Record<WebchannelEventType, Handler>>;

export interface WebchannelOptions {
  core: SessionCore;
  config: GatewayConfig;
  logger: Logger;
  /** The gateway's own origin (`http://host:port`), always allowed on /ws. */
  publicOrigin: () => string;
}

export interface Webchannel {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** The current one-time pairing code; undefined in token mode. */
  pairingCode(): string | undefined;
  close(): Promise<void>;
}

export async function createWebchannel({ core, config, logger, publicOrigin }: WebchannelOptions): Promise<Webchannel> {
  if (config.e2eRequired && config.webAuth !== 'pairing') {
    // E2E keys come from pairing; accepting the flag in token mode would promise what cannot hold.
    throw new Error('--e2e-required needs --web-auth pairing');
  }
  const log = logger.child({ component: 'webchannel' });
  const keys = await loadOrCreateKeys(config.stateDir);
  const tokens = new AccessTokens(keys.jwtSecret, config.uiTokenTtlS);
  const authenticate = createAuthenticator(config, tokens, keys.agentSecret);
  const pairing =
    config.webAuth === 'pairing'
      ? new PairingCodes({
          ttlS: config.pairingCodeTtlS,
          onNewCode: (code, ttlS) => log.info(`webchannel pairing code: ${code} (expires in ${ttlS} s)`),
        })
      : undefined;
  const handlers = createHandlers({
    core,
    config,
    authenticate,
    tokens,
    approvals: new PendingApprovals(),
    agentSecret: keys.agentSecret,
    agentPub: keys.agentPub,
    pairing,
  });
  const extraOrigins = config.webOrigin.map((o) => normalizeOrigin(o) ?? o);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BUFFERED_FRAME_BYTES });
  const alive = new WeakSet<WebSocket>();

  // Browsers answer pings by themselves; a socket that missed one is half-open and is dropped.
  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, config.pingMs).unref();

  return {
    handleUpgrade(req, socket, head) {
      const { host, origin } = req.headers;
      // Upgrades bypass the HTTP app and its host guard, so the same DNS-rebinding check runs here.
      if (!isAllowedHost(host, config.allowedHost, config.host)) {
        log.warn({ host }, 'webchannel connection refused: Host not served');
        return refuse(socket, '421 Misdirected Request');
      }
      if (!originAllowed(origin, host, [publicOrigin(), ...extraOrigins])) {
        log.warn({ origin }, 'webchannel connection refused: origin not allowed');
        return refuse(socket, '403 Forbidden');
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.add(ws);
        ws.on('pong', () => alive.add(ws));
        serve(ws, handlers, log.child({ remote: req.socket.remoteAddress }));
      });
    },
    pairingCode: () => pairing?.current(),
    async close() {
      clearInterval(pinger);
      pairing?.close();
      await Promise.all([...wss.clients].map(closeGracefully));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function serve(ws: WebSocket, handlers: Handlers, log: Logger): void {
  const abort = new AbortController();
  const conn: Connection = {
    send(type, sessionId, payload, extras) {
      sendEnvelope(ws, makeEnvelope(type, sessionId, payload, extras));
    },
    error(sessionId, code, message, requestId) {
      sendEnvelope(ws, makeEnvelope('error', sessionId, { code, message }, { request_id: requestId }));
    },
    signal: abort.signal,
    log,
  };
  // Messages are handled one at a time, so turns reach the session core in the order they were sent
  // even though authenticating one takes an await.
  let inbox = Promise.resolve();
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const envelope = readFrame(data as Buffer, isBinary, conn);
    if (!envelope) return;
    inbox = inbox.then(() => dispatch(envelope, handlers, conn));
  });
  ws.on('close', () => abort.abort());
  ws.on('error', (err) => log.debug({ err }, 'webchannel socket error'));
}

/** The frame's envelope, or undefined after answering a bad frame with an error. */
function readFrame(data: Buffer, isBinary: boolean, conn: Connection): Envelope | undefined {
  if (isBinary) {
    conn.error(UNKNOWN_SESSION_ID, 'invalid_envelope', 'binary frames are not supported; send JSON text');
    return undefined;
  }
  if (data.length > MAX_WEBCHANNEL_FRAME_BYTES) {
    conn.error(UNKNOWN_SESSION_ID, 'frame_too_large', `frames are limited to ${MAX_WEBCHANNEL_FRAME_BYTES} bytes`);
    return undefined;
  }
  const parsed = parseEnvelope(data.toString('utf8'));
  if (parsed.ok) return parsed.envelope;
  conn.error(parsed.sessionId, parsed.code, parsed.message, parsed.requestId);
  return undefined;
}

async function dispatch(envelope: Envelope, handlers: Handlers, conn: Connection): Promise<void> {
  const handler = handlers[envelope.type];
  if (handler) {
    try {
      await handler(envelope, conn);
    } catch (err) {
      conn.log.error({ err, type: envelope.type }, 'webchannel handler failed');
      conn.error(envelope.session_id, 'internal', 'internal error', envelope.request_id);
    }
  } else if (envelope.type === 'error') {
    // A client's report about our frames; answering it with another error could loop.
    conn.log.debug({ payload: envelope.payload }, 'webchannel client reported an error');
  } else {
    const expected = UI_TO_CORE_EVENTS.join(', ');
    conn.error(envelope.session_id, 'unsupported_event', `${envelope.type} is sent by the gateway, not to it (send ${expected})`, envelope.request_id);
  }
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function sendEnvelope(ws: WebSocket, envelope: Envelope): void {
  // A turn may finish after its browser left; its output then has nowhere to go.
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(envelope));
}

function closeGracefully(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1001, 'gateway stopping');
    // A peer that never answers the close frame must not hold up shutdown.
    setTimeout(() => ws.terminate(), 1000).unref();
  });
}
