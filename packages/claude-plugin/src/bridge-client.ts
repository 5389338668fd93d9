/**
 * The plugin's side of the gateway WebSocket (/bridge). Owns one connection at a time: dial,
 * hello, hello_ack, heartbeat answers, typed errors for bad frames, and reconnecting with backoff
 * for as long as the process lives. Everything Claude-facing is delegated to the handlers.
 */
import WebSocket from 'ws';
import {
  GatewayToPluginSchema,
  MAX_BRIDGE_FRAME_BYTES,
  bridgeError,
  parseFrame,
  type BridgeError,
  type Hello,
  type Inbound,
  type PermissionVerdict,
  type PluginToGatewayInput,
} from '@synthesis-agent/protocol/bridge';
import { backoffDelay, type BackoffOptions } from '@synthesis-agent/protocol/backoff';
import type { Logger } from './logger.js';

export interface BridgeHandlers {
  /** hello_ack arrived: routing to this process is (re-)established. */
  onConnected(): void;
  onInbound(inbound: Inbound): void;
  onPermission(verdict: PermissionVerdict): void;
}

export interface BridgeClientOptions {
  url: string;
  hello: Hello;
  logger: Logger;
  handlers: BridgeHandlers;
  backoff?: BackoffOptions;
}

export class BridgeNotConnectedError extends Error {
  constructor() {
    super('the SynthesisAgent gateway is not connected');
    this.name = 'BridgeNotConnectedError';
  }
}

/** Codes with which the gateway refuses this process's hello. */
const REJECTION_CODES = new Set(['unknown_session', 'unauthorized']);
const REJECTION_REASON = /unknown.?session|unauthori[sz]ed/i;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export class BridgeClient {
  private socket: WebSocket | undefined;
  private acked = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private lastError: string | undefined;
  private rejection: BridgeError | undefined;

  constructor(private readonly options: BridgeClientOptions) {}

  start(): void {
    this.dial();
  }

  get connected(): boolean {
    return this.acked && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Resolves once the frame is written; rejects with BridgeNotConnectedError before hello_ack. */
  send(frame: PluginToGatewayInput): Promise<void> {
    const socket = this.socket;
    if (!socket || !this.connected) return Promise.reject(new BridgeNotConnectedError());
    return new Promise((resolve, reject) => {
      socket.send(JSON.stringify(frame), (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Stops reconnecting and closes the socket, waiting at most `timeoutMs` for the close handshake. */
  close(timeoutMs: number): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        socket.terminate();
        resolve();
      }, timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.close(1001, 'claude exited');
    });
  }

  private dial(): void {
    const { url, hello, logger } = this.options;
    logger.debug({ url, attempt: this.attempt }, 'dialing gateway');
    // No compression: frames cross loopback, and the bundle leaves zlib out.
    const socket = new WebSocket(url, {
      maxPayload: MAX_BRIDGE_FRAME_BYTES,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      perMessageDeflate: false,
    });
    this.socket = socket;
    socket.on('open', () => this.write(socket, hello));
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        this.write(socket, bridgeError('invalid_message', 'binary frames are not part of the bridge protocol'));
        return;
      }
      this.onFrame(socket, data.toString());
    });
    // 'close' always follows 'error'; remember why so the close log can say it once.
    socket.on('error', (err) => {
      this.lastError = err.message;
    });
    socket.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  private onFrame(socket: WebSocket, raw: string): void {
    const { logger, handlers } = this.options;
    const parsed = parseFrame(GatewayToPluginSchema, raw);
    if (!parsed.ok) {
      logger.warn({ code: parsed.error.code, reason: parsed.error.message }, 'gateway sent an invalid frame');
      this.write(socket, parsed.error);
      return;
    }
    const frame = parsed.value;
    switch (frame.type) {
      case 'hello_ack':
        this.acked = true;
        this.attempt = 0;
        logger.info('connected to gateway');
        handlers.onConnected();
        return;
      case 'ping':
        this.write(socket, { type: 'pong' });
        return;
      case 'inbound':
        logger.debug({ message_id: frame.meta.message_id, chars: frame.content.length }, 'inbound message');
        handlers.onInbound(frame);
        return;
      case 'permission':
        handlers.onPermission(frame);
        return;
      case 'error':
        if (REJECTION_CODES.has(frame.code)) this.rejection = frame;
        logger.error({ code: frame.code, reason: frame.message }, 'gateway reported an error');
        return;
    }
  }

  private onClose(code: number, reason: string): void {
    const { logger } = this.options;
    this.socket = undefined;
    this.acked = false;
    if (this.closing) return;
    const delayMs = backoffDelay(this.attempt++, this.options.backoff);
    const details = { code, reason: reason || this.lastError, retry_in_ms: delayMs };
    const rejection = this.rejection;
    this.lastError = undefined;
    this.rejection = undefined;
    if (rejection || REJECTION_REASON.test(reason)) {
      // Not fatal: a restarted gateway forgets sessions until its launcher re-registers them.
      logger.error(
        { ...details, rejection: rejection?.message },
        'gateway refused this session (unknown or unauthorized); retrying in case it restarted',
      );
    } else {
      logger.warn(details, 'gateway connection lost; reconnecting');
    }
    this.reconnectTimer = setTimeout(() => this.dial(), delayMs);
  }

  /** Protocol-internal frames; a failed write shows up as a close, which reconnects. */
  private write(socket: WebSocket, frame: PluginToGatewayInput): void {
    if (socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify(frame), (err) => {
      if (err) this.options.logger.debug({ err: err.message, type: frame.type }, 'bridge write failed');
    });
  }
}
