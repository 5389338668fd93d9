/**
 * The UI's webchannel_v1 client (shared/specs/webchannel-client-behavior.md): envelope validation,
 * pairing, E2E, persisted auth, `unauthorized` handling and reconnect with backoff. No DOM: it
 * works on any WebSocket and Storage, so tests run it in Node against the real gateway code.
 */
import {
  DEFAULT_BACKOFF,
  backoffDelay,
  base64UrlDecode,
  base64UrlEncode,
  makeEnvelope,
  openE2e,
  parseEnvelope,
  parsePayload,
  sealE2e,
  type BackoffOptions,
  type E2eBox,
  type EnvelopeExtras,
  type PayloadInput,
  type PayloadOf,
  type WebchannelEventType,
} from '@synthesis-agent/protocol';
import { deriveClientKey, generateClientKeyPair, type ClientKeyPair } from './e2e.js';

export type ClientState = 'disconnected' | 'connecting' | 'pairing' | 'paired' | 'chatting';

export type ClientEvent =
  | { kind: 'state'; state: ClientState }
  | { kind: 'reconnecting'; delayMs: number }
  | { kind: 'paired'; e2e: boolean }
  | { kind: 'unauthorized' }
  | { kind: 'assistant'; requestId?: string; final: boolean; content: string; undecryptable: boolean }
  | { kind: 'tool_call'; requestId?: string; name: string; arguments: Record<string, unknown> }
  | { kind: 'tool_result'; requestId?: string; ok: boolean; result?: unknown; error?: string }
  | { kind: 'approval_request'; requestId?: string; action: string; reason?: string }
  /** `local` marks errors the client noticed itself rather than ones the gateway sent. */
  | { kind: 'error'; requestId?: string; code?: string; message: string; local: boolean };

/** What survives a reload. The E2E key is kept too (spec: auth and shared key are persisted). */
interface StoredAuth {
  accessToken?: string;
  /** Token mode: the channel token itself. */
  authToken?: string;
  /** base64url E2E key. */
  e2eKey?: string;
  /** ms since epoch; absent for a channel token. */
  expiresAt?: number;
}

export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface ClientOptions {
  url: string;
  storage: KeyValueStorage;
  onEvent(event: ClientEvent): void;
  WebSocketImpl?: typeof WebSocket;
  backoff?: BackoffOptions;
  agentId?: string;
  now?: () => number;
}

export const AUTH_KEY = 'synthesis.webchannel.auth';
const SESSION_KEY = 'synthesis.webchannel.session';

/** A pairing code is exactly 6 digits; anything else typed into the same field is a channel token. */
const PAIRING_CODE = /^\d{6}$/;

function randomId(): string {
  // getRandomValues, unlike randomUUID, also exists outside secure contexts.
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(16)));
}

export class WebchannelClient {
  private ws: WebSocket | undefined;
  private currentState: ClientState = 'disconnected';
  private auth: StoredAuth | undefined;
  private e2eKey: Uint8Array | undefined;
  private keyPair: ClientKeyPair | undefined;
  private sessionId: string;
  private readonly inFlight = new Set<string>();
  private shouldReconnect = false;
  private reconnecting = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Frames are handled one at a time: deriving the E2E key awaits, and order must hold. */
  private inbox = Promise.resolve();
  private readonly WS: typeof WebSocket;
  private readonly now: () => number;

  constructor(private readonly options: ClientOptions) {
    this.WS = options.WebSocketImpl ?? WebSocket;
    this.now = options.now ?? Date.now;
    this.auth = this.loadAuth();
    this.e2eKey = this.auth?.e2eKey ? base64UrlDecode(this.auth.e2eKey) : undefined;
    this.sessionId = options.storage.getItem(SESSION_KEY) ?? this.newSession();
  }

  get state(): ClientState {
    return this.currentState;
  }

  get e2e(): boolean {
    return this.e2eKey !== undefined;
  }

  connect(): void {
    this.shouldReconnect = true;
    if (this.ws) return;
    clearTimeout(this.reconnectTimer);
    this.setState('connecting');
    const ws = new this.WS(this.options.url);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.attempt = 0;
      this.reconnecting = false;
      this.setState(this.auth ? 'paired' : 'pairing');
    });
    ws.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      const text = event.data;
      this.inbox = this.inbox.then(() => this.handleFrame(text));
    });
    ws.addEventListener('close', () => this.onClose(ws));
  }

  /** Closes on purpose: no reconnect. */
  disconnect(): void {
    this.shouldReconnect = false;
    this.reconnecting = false;
    clearTimeout(this.reconnectTimer);
    this.ws?.close(1000);
  }

  /** A 6-digit pairing code starts pairing (with E2E where WebCrypto has X25519); other text is a channel token. */
  async pair(code: string): Promise<void> {
    const trimmed = code.trim();
    if (!PAIRING_CODE.test(trimmed)) {
      this.saveAuth({ authToken: trimmed });
      if (this.ws) this.setState('paired');
      this.options.onEvent({ kind: 'paired', e2e: false });
      return;
    }
    this.keyPair = await generateClientKeyPair();
    this.transmit('pairing_request', {
      pairing_code: trimmed,
      ...(this.keyPair && { client_pub: this.keyPair.publicKey }),
    });
  }

  /** Sends a user message and returns its request_id, or undefined if it could not be sent. */
  send(content: string): string | undefined {
    if (!this.auth) {
      this.localError('not paired');
      return undefined;
    }
    const requestId = randomId();
    const payload = this.e2eKey ? { e2e: sealE2e(this.e2eKey, { content, sender_id: 'web-ui' }) } : { content };
    if (!this.transmit('user_message', payload, { request_id: requestId, ...this.credentials() })) return undefined;
    this.inFlight.add(requestId);
    this.setState('chatting');
    return requestId;
  }

  respondToApproval(requestId: string, approved: boolean): void {
    this.transmit('approval_response', { approved }, { request_id: requestId, ...this.credentials() });
  }

  private credentials(): { access_token?: string; auth_token?: string } {
    if (this.auth?.accessToken) return { access_token: this.auth.accessToken };
    return this.auth?.authToken ? { auth_token: this.auth.authToken } : {};
  }

  /** Sends an envelope on the open socket; false (with a local error) when there is none. */
  private transmit<T extends WebchannelEventType>(type: T, payload: PayloadInput<T>, extras: EnvelopeExtras = {}): boolean {
    if (this.ws?.readyState !== this.WS.OPEN) {
      this.localError('not connected');
      return false;
    }
    this.ws.send(JSON.stringify(makeEnvelope(type, this.sessionId, payload, { ...extras, agent_id: this.options.agentId })));
    return true;
  }

  private async handleFrame(text: string): Promise<void> {
    const parsed = parseEnvelope(text);
    if (!parsed.ok) return; // the spec: invalid envelopes are ignored
    const { envelope } = parsed;
    const checked = parsePayload(envelope.type, envelope.payload);
    if (!checked.ok) return this.localError(`malformed ${envelope.type}: ${checked.message}`, envelope.request_id);
    const requestId = envelope.request_id;
    const emit = this.options.onEvent;
    switch (envelope.type) {
      case 'pairing_result':
        return this.onPaired(checked.payload as PayloadOf<'pairing_result'>);
      case 'assistant_chunk':
      case 'assistant_final': {
        const final = envelope.type === 'assistant_final';
        const { content, e2e } = checked.payload as PayloadOf<'assistant_chunk'>;
        const opened = e2e ? this.open(e2e) : content;
        emit({ kind: 'assistant', requestId, final, content: opened ?? '', undecryptable: opened === undefined });
        if (final) this.settle(requestId);
        return;
      }
      case 'tool_call':
        return emit({ kind: 'tool_call', requestId, ...(checked.payload as PayloadOf<'tool_call'>) });
      case 'tool_result':
        return emit({ kind: 'tool_result', requestId, ...(checked.payload as PayloadOf<'tool_result'>) });
      case 'approval_request':
        return emit({ kind: 'approval_request', requestId, ...(checked.payload as PayloadOf<'approval_request'>) });
      case 'error': {
        const { code, message } = checked.payload as PayloadOf<'error'>;
        if (code === 'unauthorized') this.clearAuth();
        emit({ kind: 'error', requestId, code, message, local: false });
        this.settle(requestId);
        return;
      }
      default:
        return; // UI → core events are not for us
    }
  }

  private async onPaired(result: PayloadOf<'pairing_result'>): Promise<void> {
    if (!result.ok) return this.localError('pairing refused');
    const agentPub = result.e2e?.agent_pub;
    let e2eKey: Uint8Array | undefined;
    if (agentPub && this.keyPair) {
      try {
        e2eKey = await deriveClientKey(this.keyPair.privateKey, agentPub);
      } catch {
        return this.localError('pairing failed: the gateway sent an unusable E2E key');
      }
    }
    this.keyPair = undefined;
    this.e2eKey = e2eKey;
    this.saveAuth({
      accessToken: result.access_token,
      expiresAt: this.now() + result.expires_in * 1000,
      ...(e2eKey && { e2eKey: base64UrlEncode(e2eKey) }),
    });
    this.setState('paired');
    this.options.onEvent({ kind: 'paired', e2e: e2eKey !== undefined });
  }

  /** Decrypts an assistant box; undefined when it cannot, which the UI shows instead of crashing. */
  private open(box: E2eBox): string | undefined {
    if (!this.e2eKey) return undefined;
    try {
      return openE2e(this.e2eKey, box).content;
    } catch {
      return undefined;
    }
  }

  private settle(requestId: string | undefined): void {
    if (requestId === undefined || !this.inFlight.delete(requestId)) return;
    if (this.inFlight.size === 0 && this.currentState === 'chatting') this.setState('paired');
  }

  /** `unauthorized`: forget the credentials and the E2E key everywhere and start a new conversation. */
  private clearAuth(): void {
    this.auth = undefined;
    this.e2eKey = undefined;
    this.inFlight.clear();
    this.options.storage.removeItem(AUTH_KEY);
    this.sessionId = this.newSession();
    this.options.onEvent({ kind: 'unauthorized' });
    if (this.ws) this.setState('pairing');
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.inFlight.clear();
    const wasConnected = this.currentState === 'paired' || this.currentState === 'chatting';
    // Spec: only an unexpected close of a paired/chatting client that still has a token and wants
    // to stay connected starts reconnecting; a failed attempt keeps the cycle going.
    if (this.shouldReconnect && (wasConnected || this.reconnecting) && this.auth) {
      this.reconnecting = true;
      const delayMs = backoffDelay(this.attempt++, this.options.backoff ?? DEFAULT_BACKOFF);
      this.setState('disconnected');
      this.options.onEvent({ kind: 'reconnecting', delayMs });
      this.reconnectTimer = setTimeout(() => this.connect(), delayMs);
      return;
    }
    this.reconnecting = false;
    this.setState('disconnected');
  }

  private loadAuth(): StoredAuth | undefined {
    try {
      const auth = JSON.parse(this.options.storage.getItem(AUTH_KEY) ?? 'null') as StoredAuth | null;
      if (auth && (auth.expiresAt === undefined || auth.expiresAt > this.now())) return auth;
    } catch {
      // unreadable: treated as not paired
    }
    this.options.storage.removeItem(AUTH_KEY);
    return undefined;
  }

  private saveAuth(auth: StoredAuth): void {
    this.auth = auth;
    this.options.storage.setItem(AUTH_KEY, JSON.stringify(auth));
  }

  private newSession(): string {
    const id = randomId();
    this.options.storage.setItem(SESSION_KEY, id);
    return id;
  }

  private setState(state: ClientState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.onEvent({ kind: 'state', state });
  }

  private localError(message: string, requestId?: string): void {
    this.options.onEvent({ kind: 'error', requestId, message, local: true });
  }
}
