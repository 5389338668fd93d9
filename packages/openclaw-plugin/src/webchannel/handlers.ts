/**
 * What the gateway does with each UI → core event. A handler gets a validated envelope and the
 * connection it came on, and answers only through `conn`; it never throws for anything a client
 * can send.
 */
import { randomUUID } from 'node:crypto';
import {
  E2E_ALG,
  type E2eError,
  base64UrlEncode,
  openE2e,
  parsePayload,
  sealE2e,
  type Envelope,
  type EnvelopeExtras,
  type PayloadInput,
  type WebchannelErrorCode,
  type WebchannelEventType,
} from '@synthesis-agent/protocol';
import type { GatewayConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { TurnError, type SessionCore } from '../turn.js';
import type { PendingApprovals } from './approvals.js';
import { clientE2eKey, credentialsOf, type Authenticate, type Identity } from './auth.js';
import type { PairingCodes } from './pairing.js';
import type { AccessTokens } from './tokens.js';

export interface Connection {
  send<T extends WebchannelEventType>(type: T, sessionId: string, payload: PayloadInput<T>, extras?: EnvelopeExtras): void;
  error(sessionId: string, code: WebchannelErrorCode | TurnError['code'], message: string, requestId?: string): void;
  /** Aborted when the socket closes. */
  signal: AbortSignal;
  log: Logger;
}

export interface HandlerContext {
  core: SessionCore;
  config: GatewayConfig;
  authenticate: Authenticate;
  tokens: AccessTokens;
  approvals: PendingApprovals;
  agentSecret: Uint8Array;
  agentPub: Uint8Array;
  /** Absent in token mode. */
  pairing: PairingCodes | undefined;
}

export type Handler = (envelope: Envelope, conn: Connection) => Promise<void>;

function sessionKeyOf(envelope: Envelope): string {
  return `webchannel::${envelope.agent_id || 'default'}::${envelope.session_id}`;
}

export function createHandlers(ctx: HandlerContext): Partial<Record<WebchannelEventType, Handler>> {
  return {
    pairing_request: (envelope, conn) => pair(ctx, envelope, conn),
    user_message: (envelope, conn) => userMessage(ctx, envelope, conn),
    approval_response: (envelope, conn) => approvalResponse(ctx, envelope, conn),
  };
}

async function pair(ctx: HandlerContext, envelope: Envelope, conn: Connection): Promise<void> {
  const { session_id: sessionId, request_id: requestId } = envelope;
  if (!ctx.pairing) return conn.error(sessionId, 'pairing_unavailable', 'pairing is off: this gateway uses token auth', requestId);
  const parsed = parsePayload('pairing_request', envelope.payload);
  if (!parsed.ok) return conn.error(sessionId, 'invalid_payload', parsed.message, requestId);
  const clientPub = parsed.payload.client_pub ?? parsed.payload.client_public_key;
  // Refuse a bad key or a missing one before the code is tried, so such a request cannot burn it.
  if (clientPub !== undefined) {
    try {
      clientE2eKey(ctx.agentSecret, clientPub);
    } catch (err) {
      return conn.error(sessionId, 'invalid_payload', (err as E2eError).message, requestId);
    }
  } else if (ctx.config.e2eRequired) {
    return conn.error(sessionId, 'e2e_required', 'this gateway requires E2E: send client_pub with the pairing code', requestId);
  }
  const attempt = ctx.pairing.attempt(parsed.payload.pairing_code);
  if (!attempt.ok && attempt.reason === 'locked') {
    conn.log.warn('webchannel pairing locked after repeated wrong codes');
    return conn.error(sessionId, 'pairing_locked', `too many wrong codes; pairing is locked for ${attempt.retryAfterS} s`, requestId);
  }
  if (!attempt.ok) return conn.error(sessionId, 'pairing_failed', 'wrong or expired pairing code', requestId);
  const clientId = randomUUID();
  const accessToken = await ctx.tokens.issue(clientPub === undefined ? { clientId } : { clientId, clientPub });
  conn.log.info({ clientId, e2e: clientPub !== undefined }, 'webchannel client paired');
  conn.send(
    'pairing_result',
    sessionId,
    {
      ok: true,
      client_id: clientId,
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: ctx.tokens.ttlS,
      e2e_required: ctx.config.e2eRequired,
      ...(clientPub !== undefined && { e2e: { alg: E2E_ALG, agent_pub: base64UrlEncode(ctx.agentPub) } }),
    },
    { request_id: requestId, agent_id: envelope.agent_id },
  );
}

async function userMessage(ctx: HandlerContext, envelope: Envelope, conn: Connection): Promise<void> {
  const { session_id: sessionId } = envelope;
  const parsed = parsePayload('user_message', envelope.payload);
  if (!parsed.ok) return conn.error(sessionId, 'invalid_payload', parsed.message, envelope.request_id);
  const identity = await ctx.authenticate(credentialsOf(envelope));
  if (!identity) return conn.error(sessionId, 'unauthorized', 'missing, invalid or expired credentials', envelope.request_id);
  let content: string;
  if (parsed.payload.e2e) {
    if (!identity.e2eKey) {
      return conn.error(sessionId, 'e2e_unavailable', 'no E2E key: pair with client_pub to send encrypted messages', envelope.request_id);
    }
    try {
      content = openE2e(identity.e2eKey, parsed.payload.e2e).content;
    } catch (err) {
      return conn.error(sessionId, 'e2e_failed', `message not delivered: ${(err as E2eError).message}`, envelope.request_id);
    }
  } else {
    if (identity.e2eKey && ctx.config.e2eRequired) {
      return conn.error(sessionId, 'e2e_required', 'plaintext refused: this gateway requires E2E', envelope.request_id);
    }
    content = parsed.payload.content ?? '';
  }
  startTurn(ctx, envelope, conn, identity, content);
}

/** Starts the turn without awaiting it, so the connection's next message is read meanwhile. */
function startTurn(ctx: HandlerContext, envelope: Envelope, conn: Connection, identity: Identity, content: string): void {
  const requestId = envelope.request_id || randomUUID();
  const sessionKey = sessionKeyOf(envelope);
  const log = conn.log.child({ session: sessionKey, request: requestId });
  const extras = { request_id: requestId, agent_id: envelope.agent_id };
  const reply = (type: 'assistant_chunk' | 'assistant_final', text: string) =>
    conn.send(type, envelope.session_id, identity.e2eKey ? { e2e: sealE2e(identity.e2eKey, { content: text }) } : { content: text }, extras);

  ctx.core
    .runTurn({
      sessionKey,
      content,
      requestId,
      chatId: envelope.session_id,
      signal: conn.signal,
      onChunk: (text) => reply('assistant_chunk', text),
      onPermissionRequest: (request) => {
        ctx.approvals.add(request.request_id, { answer: request.answer, clientId: identity.clientId, sessionKey, turnId: requestId });
        conn.send(
          'approval_request',
          envelope.session_id,
          { action: `${request.tool_name}: ${request.description}`, reason: request.input_preview },
          { ...extras, request_id: request.request_id },
        );
      },
    })
    .then(
      (result) => reply('assistant_final', result.final ?? result.text),
      (err: unknown) => {
        if (err instanceof TurnError) return conn.error(envelope.session_id, err.code, err.message, requestId);
        log.error({ err }, 'webchannel turn failed');
        conn.error(envelope.session_id, 'internal', 'internal error', requestId);
      },
    )
    .finally(() => ctx.approvals.dropTurn(requestId));
}

async function approvalResponse(ctx: HandlerContext, envelope: Envelope, conn: Connection): Promise<void> {
  const { session_id: sessionId, request_id: requestId } = envelope;
  const parsed = parsePayload('approval_response', envelope.payload);
  if (!parsed.ok) return conn.error(sessionId, 'invalid_payload', parsed.message, requestId);
  const identity = await ctx.authenticate(credentialsOf(envelope));
  if (!identity) return conn.error(sessionId, 'unauthorized', 'missing, invalid or expired credentials', requestId);
  const behavior = parsed.payload.approved ? 'allow' : 'deny';
  if (!requestId || !ctx.approvals.answer(requestId, identity.clientId, sessionKeyOf(envelope), behavior)) {
    return conn.error(sessionId, 'unknown_request', 'no pending approval with this request_id', requestId);
  }
  conn.log.info({ request: requestId, behavior }, 'webchannel approval answered');
}
