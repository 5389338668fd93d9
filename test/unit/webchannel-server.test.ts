/**
 * The webchannel_v1 front door over real sockets: createWebchannel on a plain node:http server,
 * a scripted SessionCore, and Node clients — raw `ws` ones for the protocol, and the bundled UI's
 * own client code for the browser ↔ gateway cross-check.
 */
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { x25519 } from '@noble/curves/ed25519.js';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  MAX_WEBCHANNEL_FRAME_BYTES,
  base64UrlDecode,
  base64UrlEncode,
  deriveE2eKey,
  openE2e,
  sealE2e,
  type E2eBox,
  type Envelope,
} from '@synthesis-agent/protocol';
import { validateConfig, type GatewayConfigInput } from '../../packages/openclaw-plugin/src/config.js';
import { TurnError, type SessionCore, type TurnRequest, type TurnResult } from '../../packages/openclaw-plugin/src/turn.js';
import { KEY_FILE } from '../../packages/openclaw-plugin/src/webchannel/keys.js';
import { createWebchannel, type Webchannel } from '../../packages/openclaw-plugin/src/webchannel/webchannel-server.js';
import { WebchannelClient, AUTH_KEY, type ClientEvent } from '../../packages/openclaw-plugin/ui/client.js';
import { deriveClientKey, generateClientKeyPair } from '../../packages/openclaw-plugin/ui/e2e.js';
import { Conversation } from '../../packages/openclaw-plugin/ui/store.js';
import { captureLogs, type LogCapture } from '../fixtures/dist/reasoning-backend/log-capture.js';

// ---- harness ----------------------------------------------------------------------------------

/**
 * A session core scripted by message text: `fail:<code>` rejects with that TurnError, `permission`
 * relays a permission request and answers with the verdict, `hang` waits for the caller to leave;
 * anything else streams one chunk and answers `echo: <text>`.
 */
class ScriptedCore implements SessionCore {
  readonly turns: TurnRequest[] = [];
  /** 'turn' (request) when a turn starts, 'aborted' (requestId) when a hanging turn's caller left. */
  readonly events = new EventEmitter();

  async runTurn(request: TurnRequest): Promise<TurnResult> {
    this.turns.push(request);
    this.events.emit('turn', request);
    const { content } = request;
    if (content.startsWith('fail:')) throw new TurnError(content.slice(5) as TurnError['code'], `scripted ${content.slice(5)}`);
    if (content === 'permission') {
      const behavior = await new Promise<string>((resolve) =>
        request.onPermissionRequest!({ request_id: 'abcde', tool_name: 'Bash', description: 'run ls', input_preview: 'ls -la', answer: resolve }),
      );
      return { text: `permission ${behavior}`, chunks: [], final: `permission ${behavior}` };
    }
    if (content === 'hang') {
      await once(request.signal!, 'abort');
      this.events.emit('aborted', request.requestId);
      return { text: 'too late', chunks: [], final: 'too late' };
    }
    request.onChunk?.(`thinking about ${content}`);
    return { text: `thinking about ${content}\n\necho: ${content}`, chunks: [`thinking about ${content}`], final: `echo: ${content}` };
  }

  sessions() {
    return [];
  }
}

interface Channel {
  url: string;
  origin: string;
  channel: Webchannel;
  core: ScriptedCore;
  logs: LogCapture;
  stateDir: string;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'webchannel-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startChannel(overrides: GatewayConfigInput = {}): Promise<Channel> {
  const stateDir = overrides.stateDir ?? tempDir();
  const config = validateConfig({ stateDir, ...overrides });
  const core = new ScriptedCore();
  const logs = captureLogs();
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const channel = await createWebchannel({ core, config, logger: logs.logger, publicOrigin: () => origin });
  server.on('upgrade', (req, socket, head) => channel.handleUpgrade(req, socket, head));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await channel.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  cleanups.push(close);
  return { url: `${origin.replace('http', 'ws')}/ws`, origin, channel, core, logs, stateDir, close };
}

/** A raw protocol client that queues what it receives and lets a test wait for the next match. */
class RawClient {
  private readonly received: Envelope[] = [];
  private readonly waiters = new Set<() => void>();
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Envelope);
      for (const wake of this.waiters) wake();
    });
    this.closed = once(ws, 'close').then(([code]) => code as number);
  }

  static async open(url: string, options: WebSocket.ClientOptions = {}): Promise<RawClient> {
    const ws = new WebSocket(url, options);
    cleanups.push(() => ws.terminate());
    await once(ws, 'open');
    return new RawClient(ws);
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Resolves with (and removes) the first received envelope that matches, waiting if needed. */
  next(match: (e: Envelope) => boolean = () => true, timeoutMs = 5000): Promise<Envelope> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.received.findIndex(match);
        if (index < 0) return false;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(this.received.splice(index, 1)[0]!);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no matching frame within ${timeoutMs} ms; received ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** The next frame of `type` for `requestId`. */
  nextOf(type: string, requestId?: string): Promise<Envelope> {
    return this.next((e) => e.type === type && (requestId === undefined || e.request_id === requestId));
  }

  /** Everything still queued; proves what was *not* sent once a later frame has arrived. */
  pending(): Envelope[] {
    return [...this.received];
  }
}

const env = (type: string, payload?: Record<string, unknown>, extras: Record<string, unknown> = {}) => ({
  v: 1,
  type,
  session_id: 's1',
  ...extras,
  ...(payload && { payload }),
});

interface Paired {
  token: string;
  key?: Uint8Array;
  result: Envelope;
}

async function pair(ch: Channel, client: RawClient, withE2e = true): Promise<Paired> {
  const browser = x25519.keygen();
  const code = ch.channel.pairingCode()!;
  const payload = withE2e ? { pairing_code: code, client_pub: base64UrlEncode(browser.publicKey) } : { pairing_code: code };
  client.send(env('pairing_request', payload, { request_id: 'pair-1' }));
  const result = await client.next((e) => e.type === 'pairing_result' || e.type === 'error');
  expect(result.type).toBe('pairing_result');
  const agentPub = (result.payload as { e2e?: { agent_pub: string } }).e2e?.agent_pub;
  const key = agentPub ? deriveE2eKey(x25519.getSharedSecret(browser.secretKey, base64UrlDecode(agentPub))) : undefined;
  return { token: (result.payload as { access_token: string }).access_token, ...(key && { key }), result };
}

const boxOf = (e: Envelope) => (e.payload as { e2e: E2eBox }).e2e;

// ---- tests ------------------------------------------------------------------------------------

describe('webchannel pairing', () => {
  it('pairs with the printed code, once, and announces the next code', async () => {
    const ch = await startChannel({ uiTokenTtlS: 3600 });
    const first = ch.channel.pairingCode()!;
    expect(first).toMatch(/^\d{6}$/);
    await ch.logs.waitFor('code log line', (l) => l.msg === `webchannel pairing code: ${first} (expires in 300 s)`);
    const client = await RawClient.open(ch.url);
    const { result, token } = await pair(ch, client);
    expect(result).toMatchObject({ v: 1, session_id: 's1', request_id: 'pair-1' });
    expect(result.payload).toMatchObject({
      ok: true,
      client_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      e2e_required: false,
      e2e: { alg: 'x25519-chacha20poly1305-v1', agent_pub: expect.stringMatching(/^[\w-]{43}$/) },
    });
    expect(token.split('.')).toHaveLength(3);

    client.send(env('pairing_request', { pairing_code: first }, { request_id: 'again' }));
    expect((await client.nextOf('error', 'again')).payload).toMatchObject({ code: 'pairing_failed' });
    const second = ch.channel.pairingCode()!;
    expect(second).not.toBe(first);
    await ch.logs.waitFor('new code log line', (l) => l.msg === `webchannel pairing code: ${second} (expires in 300 s)`);
    // Tokens and codes are secrets: the log has the code lines, never a token.
    expect(ch.logs.text()).not.toContain(token);
  });

  it('pairs without client_pub as plaintext-only', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { result } = await pair(ch, client, false);
    expect(result.payload).not.toHaveProperty('e2e');
  });

  it('accepts client_public_key as the alias of client_pub', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const pub = base64UrlEncode(x25519.keygen().publicKey);
    client.send(env('pairing_request', { pairing_code: ch.channel.pairingCode(), client_public_key: pub }));
    expect((await client.nextOf('pairing_result')).payload).toHaveProperty('e2e.agent_pub');
  });

  it('refuses an unusable client_pub without burning the code', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const code = ch.channel.pairingCode();
    for (const bad of ['not base64!', base64UrlEncode(new Uint8Array(31)), base64UrlEncode(new Uint8Array(32))]) {
      client.send(env('pairing_request', { pairing_code: code, client_pub: bad }));
      expect((await client.nextOf('error')).payload).toMatchObject({ code: 'invalid_payload' });
    }
    expect(ch.channel.pairingCode()).toBe(code);
  });

  it('locks pairing for 5 minutes after 5 wrong codes, even for the right code', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const code = ch.channel.pairingCode()!;
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 4; i++) {
      client.send(env('pairing_request', { pairing_code: wrong }));
      expect((await client.nextOf('error')).payload).toMatchObject({ code: 'pairing_failed' });
    }
    client.send(env('pairing_request', { pairing_code: wrong }));
    expect((await client.nextOf('error')).payload).toEqual({ code: 'pairing_locked', message: expect.stringContaining('300 s') });
    client.send(env('pairing_request', { pairing_code: code }));
    expect((await client.nextOf('error')).payload).toMatchObject({ code: 'pairing_locked' });
  });

  it('keeps the signing key in <stateDir>/webchannel-key (0600), so tokens survive a restart', async () => {
    const stateDir = tempDir();
    const first = await startChannel({ stateDir });
    const { token, key } = await pair(first, await RawClient.open(first.url));
    await first.close();
    expect(statSync(path.join(stateDir, KEY_FILE)).mode & 0o777).toBe(0o600);

    const second = await startChannel({ stateDir });
    const client = await RawClient.open(second.url);
    client.send(env('user_message', { e2e: sealE2e(key!, { content: 'after restart' }) }, { request_id: 'r', access_token: token }));
    expect(openE2e(key!, boxOf(await client.nextOf('assistant_final', 'r')))).toEqual({ content: 'echo: after restart' });
  });
});

describe('webchannel messages', () => {
  it('runs a turn: assistant_chunk then assistant_final, with the request_id, on the session key', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    client.send(env('user_message', { content: 'hello' }, { request_id: 'r1', access_token: token }));
    const chunk = await client.nextOf('assistant_chunk', 'r1');
    const final = await client.nextOf('assistant_final', 'r1');
    expect(chunk).toMatchObject({ session_id: 's1', payload: { content: 'thinking about hello' } });
    // The final carries the final reply alone: the chunk was already shown.
    expect(final.payload).toEqual({ content: 'echo: hello' });
    expect(ch.core.turns[0]).toMatchObject({ sessionKey: 'webchannel::default::s1', chatId: 's1', requestId: 'r1', content: 'hello' });

    client.send(env('user_message', { content: 'agent', access_token: token }, { agent_id: 'a7', request_id: 'r2' }));
    expect(await client.nextOf('assistant_final', 'r2')).toMatchObject({ agent_id: 'a7' });
    expect(ch.core.turns[1]!.sessionKey).toBe('webchannel::a7::s1');
  });

  it('makes up a request_id when the message has none', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    client.send(env('user_message', { content: 'no id' }, { access_token: token }));
    const final = await client.nextOf('assistant_final');
    expect(final.request_id).toBe(ch.core.turns[0]!.requestId);
    expect(final.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hands messages to the session core in the order they were sent', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    const ids = ['m1', 'm2', 'm3', 'm4', 'm5'];
    for (const id of ids) client.send(env('user_message', { content: id }, { request_id: id, access_token: token }));
    for (const id of ids) await client.nextOf('assistant_final', id);
    expect(ch.core.turns.map((t) => t.content)).toEqual(ids);
  });

  it('encrypts both ways once E2E is established', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token, key } = await pair(ch, client);
    client.send(env('user_message', { e2e: sealE2e(key!, { content: 'top secret', sender_id: 'me' }) }, { request_id: 'r', access_token: token }));
    const chunk = await client.nextOf('assistant_chunk', 'r');
    const final = await client.nextOf('assistant_final', 'r');
    expect(ch.core.turns[0]!.content).toBe('top secret');
    for (const frame of [chunk, final]) {
      expect(Object.keys(frame.payload!)).toEqual(['e2e']);
      expect(JSON.stringify(frame)).not.toContain('top secret');
    }
    expect(openE2e(key!, boxOf(chunk)).content).toBe('thinking about top secret');
    expect(openE2e(key!, boxOf(final)).content).toBe('echo: top secret');
  });

  it('refuses a tampered ciphertext with e2e_failed and delivers nothing', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token, key } = await pair(ch, client);
    const box = sealE2e(key!, { content: 'x' });
    const bytes = base64UrlDecode(box.ciphertext);
    bytes[bytes.length - 1]! ^= 0x80;
    client.send(env('user_message', { e2e: { ...box, ciphertext: base64UrlEncode(bytes) } }, { request_id: 'bad', access_token: token }));
    expect((await client.nextOf('error', 'bad')).payload).toEqual({ code: 'e2e_failed', message: expect.stringContaining('not delivered') });
    expect(ch.core.turns).toHaveLength(0);
  });

  it('refuses an E2E box from a client that paired without a key', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    const box = sealE2e(deriveE2eKey(new Uint8Array(32).fill(1)), { content: 'x' });
    client.send(env('user_message', { e2e: box }, { request_id: 'r', access_token: token }));
    expect((await client.nextOf('error', 'r')).payload).toMatchObject({ code: 'e2e_unavailable' });
  });

  it.each([
    ['no token', undefined],
    ['a garbage token', 'not.a.jwt'],
  ])('answers a message with %s with unauthorized', async (_name, token) => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    client.send(env('user_message', { content: 'hi' }, { request_id: 'r', access_token: token }));
    expect(await client.nextOf('error', 'r')).toMatchObject({ session_id: 's1', payload: { code: 'unauthorized' } });
    expect(ch.core.turns).toHaveLength(0);
  });

  it('refuses an expired token and one signed with another key', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const secret = base64UrlDecode((JSON.parse(readFileSync(path.join(ch.stateDir, KEY_FILE), 'utf8')) as { jwt_secret: string }).jwt_secret);
    const now = Math.floor(Date.now() / 1000);
    const token = (key: Uint8Array, exp: number) =>
      new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('c').setIssuer('synthesis-agent').setAudience('webchannel').setIssuedAt(now - 1000).setExpirationTime(exp).sign(key);
    // The same claims with a future expiry are accepted: only the expiry (or the key) differs.
    for (const [id, jwt, code] of [
      ['valid', await token(secret, now + 600), undefined],
      ['expired', await token(secret, now - 10), 'unauthorized'],
      ['foreign', await token(new Uint8Array(32).fill(9), now + 600), 'unauthorized'],
    ] as const) {
      client.send(env('user_message', { content: 'hi' }, { request_id: id, access_token: jwt }));
      const reply = await client.next((e) => e.request_id === id && (e.type === 'error' || e.type === 'assistant_final'));
      if (code) expect(reply.payload).toMatchObject({ code });
      else expect(reply.type).toBe('assistant_final');
    }
  });

  it('takes the access token from the payload too', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    client.send(env('user_message', { content: 'in payload', access_token: token }, { request_id: 'r' }));
    expect((await client.nextOf('assistant_final', 'r')).payload).toEqual({ content: 'echo: in payload' });
  });

  it('turns a TurnError into an error event with its code and the request_id', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    for (const code of ['claude_exited', 'turn_timeout', 'bridge_disconnected']) {
      client.send(env('user_message', { content: `fail:${code}` }, { request_id: code, access_token: token }));
      expect((await client.nextOf('error', code)).payload).toEqual({ code, message: `scripted ${code}` });
    }
  });

  it('aborts the turn signal when the browser goes away', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    const started = once(ch.core.events, 'turn');
    client.send(env('user_message', { content: 'hang' }, { request_id: 'gone', access_token: token }));
    await started;
    const aborted = once(ch.core.events, 'aborted');
    client.ws.close();
    expect(await aborted).toEqual(['gone']);
  });
});

describe('webchannel approvals', () => {
  it('relays a permission request and answers it with the approval_response', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    const { token } = await pair(ch, client, false);
    client.send(env('user_message', { content: 'permission' }, { request_id: 'turn', access_token: token }));
    const request = await client.nextOf('approval_request', 'abcde');
    expect(request.payload).toEqual({ action: 'Bash: run ls', reason: 'ls -la' });
    client.send(env('approval_response', { approved: true }, { request_id: 'abcde', access_token: token }));
    expect((await client.nextOf('assistant_final', 'turn')).payload).toEqual({ content: 'permission allow' });
  });

  it('lets only the client that started the turn answer, and only once', async () => {
    const ch = await startChannel();
    const owner = await RawClient.open(ch.url);
    const { token } = await pair(ch, owner, false);
    const other = await RawClient.open(ch.url);
    const { token: otherToken } = await pair(ch, other, false);
    owner.send(env('user_message', { content: 'permission' }, { request_id: 'turn', access_token: token }));
    await owner.nextOf('approval_request', 'abcde');

    other.send(env('approval_response', { approved: true }, { request_id: 'abcde', access_token: otherToken }));
    expect((await other.nextOf('error', 'abcde')).payload).toMatchObject({ code: 'unknown_request' });
    owner.send(env('approval_response', { approved: true }, { request_id: 'abcde' }));
    expect((await owner.nextOf('error', 'abcde')).payload).toMatchObject({ code: 'unauthorized' });
    owner.send(env('approval_response', { approved: false }, { request_id: 'abcde', access_token: token }));
    expect((await owner.nextOf('assistant_final', 'turn')).payload).toEqual({ content: 'permission deny' });
    owner.send(env('approval_response', { approved: true }, { request_id: 'abcde', access_token: token }));
    expect((await owner.nextOf('error', 'abcde')).payload).toMatchObject({ code: 'unknown_request' });
  });
});

describe('webchannel frame validation', () => {
  it.each([
    ['text that is not JSON', '{oops', 'invalid_json', 'unknown'],
    ['wrong v', { v: 2, type: 'user_message', session_id: 's9' }, 'invalid_envelope', 's9'],
    ['unknown type', { v: 1, type: 'telepathy', session_id: 's9' }, 'invalid_envelope', 's9'],
    ['missing session_id', { v: 1, type: 'user_message' }, 'invalid_envelope', 'unknown'],
    ['a bad payload', env('user_message', { content: 5 }), 'invalid_payload', 's1'],
    ['an event the gateway sends', env('assistant_chunk', { content: 'x' }), 'unsupported_event', 's1'],
  ])('answers %s with an error event and stays usable', async (_name, frame, code, sessionId) => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    client.send(frame);
    const error = await client.nextOf('error');
    expect(error).toMatchObject({ v: 1, session_id: sessionId, payload: { code, message: expect.any(String) } });
    const { result } = await pair(ch, client, false);
    expect(result.type).toBe('pairing_result');
  });

  it('answers a binary frame and an oversize frame with errors, and closes past the buffer cap', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    client.send(Buffer.from([1, 2, 3]));
    expect((await client.nextOf('error')).payload).toMatchObject({ code: 'invalid_envelope', message: expect.stringContaining('binary') });
    client.send(JSON.stringify(env('user_message', { content: 'x'.repeat(MAX_WEBCHANNEL_FRAME_BYTES) })));
    expect((await client.nextOf('error')).payload).toMatchObject({ code: 'frame_too_large' });
    client.send('x'.repeat(4 * MAX_WEBCHANNEL_FRAME_BYTES + 1));
    expect(await client.closed).toBe(1009);
  });

  it('does not answer an error event from the client', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    client.send(env('error', { message: 'your frame was odd' }));
    await pair(ch, client, false);
    expect(client.pending()).toEqual([]);
  });
});

describe('webchannel token mode', () => {
  it('accepts user_message with the configured token and nothing else', async () => {
    const ch = await startChannel({ webAuth: 'token', webToken: 'sesame-token-123' });
    expect(ch.channel.pairingCode()).toBeUndefined();
    const client = await RawClient.open(ch.url);
    client.send(env('user_message', { content: 'hi' }, { request_id: 'ok', auth_token: 'sesame-token-123' }));
    expect((await client.nextOf('assistant_final', 'ok')).payload).toEqual({ content: 'echo: hi' });
    client.send(env('user_message', { content: 'hi', auth_token: 'sesame-token-123' }, { request_id: 'payload' }));
    await client.nextOf('assistant_final', 'payload');
    for (const [id, token] of [['wrong', 'sesame-token-124'], ['short', 'sesame'], ['none', undefined]] as const) {
      client.send(env('user_message', { content: 'hi' }, { request_id: id, auth_token: token }));
      expect((await client.nextOf('error', id)).payload).toMatchObject({ code: 'unauthorized' });
    }
    client.send(env('pairing_request', { pairing_code: '123456' }));
    expect((await client.nextOf('error')).payload).toMatchObject({ code: 'pairing_unavailable' });
    expect(ch.logs.text()).not.toContain('sesame-token-123');
  });

  it('refuses to start without a token, or with --e2e-required', async () => {
    await expect(startChannel({ webAuth: 'token' })).rejects.toThrow('--web-token');
    await expect(startChannel({ webAuth: 'token', webToken: 't', e2eRequired: true })).rejects.toThrow('--e2e-required');
  });
});

describe('webchannel with --e2e-required', () => {
  it('refuses pairing without a key and plaintext once paired', async () => {
    const ch = await startChannel({ e2eRequired: true });
    const client = await RawClient.open(ch.url);
    const code = ch.channel.pairingCode();
    client.send(env('pairing_request', { pairing_code: code }));
    expect((await client.nextOf('error')).payload).toMatchObject({ code: 'e2e_required' });
    expect(ch.channel.pairingCode()).toBe(code);
    const { token, key, result } = await pair(ch, client);
    expect(result.payload).toMatchObject({ e2e_required: true });
    client.send(env('user_message', { content: 'plain' }, { request_id: 'plain', access_token: token }));
    expect((await client.nextOf('error', 'plain')).payload).toMatchObject({ code: 'e2e_required' });
    client.send(env('user_message', { e2e: sealE2e(key!, { content: 'sealed' }) }, { request_id: 'sealed', access_token: token }));
    await client.nextOf('assistant_final', 'sealed');
    expect(ch.core.turns.map((t) => t.content)).toEqual(['sealed']);
  });
});

describe('webchannel handshake', () => {
  it('allows its own origin, configured origins and clients without Origin; refuses others', async () => {
    const ch = await startChannel({ webOrigin: ['https://chat.example.com/'] });
    const handshake = (headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(ch.url, { headers });
        ws.on('error', () => {}); // a refused handshake also reports an error; its status is what counts
        ws.once('open', () => {
          resolve(101);
          ws.terminate();
        });
        ws.once('unexpected-response', (req, res) => {
          resolve(res.statusCode!);
          req.destroy();
        });
      });
    const port = new URL(ch.url).port;
    expect(await handshake({})).toBe(101);
    expect(await handshake({ Origin: ch.origin })).toBe(101);
    expect(await handshake({ Origin: `http://localhost:${port}`, Host: `localhost:${port}` })).toBe(101);
    expect(await handshake({ Origin: 'https://chat.example.com' })).toBe(101);
    expect(await handshake({ Origin: 'https://evil.example' })).toBe(403);
    expect(await handshake({ Origin: 'null' })).toBe(403);
    // A DNS-rebinding page: same host as its origin, but a name this gateway does not serve.
    expect(await handshake({ Origin: `http://evil.example:${port}`, Host: `evil.example:${port}` })).toBe(421);
  });

  it('drops a socket that stops answering pings', async () => {
    const ch = await startChannel({ pingMs: 50 });
    const client = await RawClient.open(ch.url, { autoPong: false });
    expect(await client.closed).toBe(1006);
  });

  it('closes every socket with 1001 when it closes', async () => {
    const ch = await startChannel();
    const client = await RawClient.open(ch.url);
    await ch.close();
    expect(await client.closed).toBe(1001);
  });
});

// ---- the bundled UI's client against the gateway ------------------------------------------------

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
}

/** The UI client on Node's `ws`, with its events queued for the test to wait on. */
function uiClient(ch: Channel, storage = new MemoryStorage()) {
  const events: ClientEvent[] = [];
  /** The client's sockets, so a test can cut one as a network failure would. */
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const waiters = new Set<() => void>();
  const client = new WebchannelClient({
    url: ch.url,
    storage,
    WebSocketImpl: TrackedWebSocket as unknown as typeof globalThis.WebSocket,
    backoff: { baseMs: 20, capMs: 100, minJitter: 0.5 },
    onEvent: (event) => {
      events.push(event);
      for (const wake of waiters) wake();
    },
  });
  cleanups.push(() => client.disconnect());
  const waitFor = <K extends ClientEvent['kind']>(kind: K, match: (e: Extract<ClientEvent, { kind: K }>) => boolean = () => true) =>
    new Promise<Extract<ClientEvent, { kind: K }>>((resolve, reject) => {
      const check = () => {
        const index = events.findIndex((e) => e.kind === kind && match(e as Extract<ClientEvent, { kind: K }>));
        if (index < 0) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(events.splice(index, 1)[0] as Extract<ClientEvent, { kind: K }>);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${kind} event; got ${JSON.stringify(events)}`));
      }, 5000);
      waiters.add(check);
      check();
    });
  return { client, storage, events, sockets, waitFor };
}

describe('the UI client against the gateway', () => {
  it('derives the same key with WebCrypto as the gateway does with noble, both ways', async () => {
    const browser = (await generateClientKeyPair())!;
    const agent = x25519.keygen();
    const browserKey = await deriveClientKey(browser.privateKey, base64UrlEncode(agent.publicKey));
    const gatewayKey = deriveE2eKey(x25519.getSharedSecret(agent.secretKey, base64UrlDecode(browser.publicKey)));
    expect(browserKey).toEqual(gatewayKey);
    expect(openE2e(gatewayKey, sealE2e(browserKey, { content: 'up' }))).toEqual({ content: 'up' });
    expect(openE2e(browserKey, sealE2e(gatewayKey, { content: 'down' }))).toEqual({ content: 'down' });
  });

  it('pairs, chats end to end encrypted, and keeps auth across a reload', async () => {
    const ch = await startChannel();
    const ui = uiClient(ch);
    ui.client.connect();
    await ui.waitFor('state', (e) => e.state === 'pairing');
    await ui.client.pair(ch.channel.pairingCode()!);
    expect(await ui.waitFor('paired')).toEqual({ kind: 'paired', e2e: true });
    const requestId = ui.client.send('from the browser')!;
    expect(await ui.waitFor('assistant', (e) => e.final)).toEqual({
      kind: 'assistant',
      requestId,
      final: true,
      content: 'echo: from the browser',
      undecryptable: false,
    });
    expect(ch.core.turns[0]!.content).toBe('from the browser');
    expect(JSON.parse(ui.storage.getItem(AUTH_KEY)!)).toMatchObject({ accessToken: expect.any(String), e2eKey: expect.any(String) });

    // A "reload": a new client on the same storage is paired and still encrypts.
    ui.client.disconnect();
    const reloaded = uiClient(ch, ui.storage);
    reloaded.client.connect();
    await reloaded.waitFor('state', (e) => e.state === 'paired');
    expect(reloaded.client.e2e).toBe(true);
    reloaded.client.send('again');
    expect(await reloaded.waitFor('assistant', (e) => e.final)).toMatchObject({ content: 'echo: again' });
  });

  it('clears its auth on unauthorized', async () => {
    const ch = await startChannel();
    const storage = new MemoryStorage();
    storage.setItem(AUTH_KEY, JSON.stringify({ accessToken: 'stale', expiresAt: Date.now() + 60_000 }));
    const ui = uiClient(ch, storage);
    ui.client.connect();
    await ui.waitFor('state', (e) => e.state === 'paired');
    ui.client.send('hi');
    await ui.waitFor('unauthorized');
    expect(await ui.waitFor('error')).toMatchObject({ code: 'unauthorized', local: false });
    expect(storage.getItem(AUTH_KEY)).toBeNull();
    expect(ui.client.state).toBe('pairing');
  });

  it('reconnects after an unexpected close while paired, and not otherwise', async () => {
    const ch = await startChannel({ webAuth: 'token', webToken: 'tok' });
    const ui = uiClient(ch);
    ui.client.connect();
    await ui.waitFor('state', (e) => e.state === 'pairing');
    // Unpaired: a dropped socket stays dropped.
    ui.sockets.at(-1)!.terminate();
    await ui.waitFor('state', (e) => e.state === 'disconnected');
    expect(ui.events.some((e) => e.kind === 'reconnecting')).toBe(false);

    ui.client.connect();
    await ui.waitFor('state', (e) => e.state === 'pairing');
    await ui.client.pair('tok');
    await ui.waitFor('state', (e) => e.state === 'paired');
    ui.sockets.at(-1)!.terminate();
    const { delayMs } = await ui.waitFor('reconnecting');
    expect(delayMs).toBeGreaterThanOrEqual(10);
    expect(delayMs).toBeLessThanOrEqual(20);
    await ui.waitFor('state', (e) => e.state === 'paired');
    ui.client.send('back');
    expect(await ui.waitFor('assistant', (e) => e.final)).toMatchObject({ content: 'echo: back' });

    // A deliberate disconnect does not come back.
    ui.client.disconnect();
    await ui.waitFor('state', (e) => e.state === 'disconnected');
    expect(ui.events.some((e) => e.kind === 'reconnecting')).toBe(false);
  });

  it('shows an undecryptable answer as such instead of failing', async () => {
    const conversation = new Conversation();
    conversation.addUser('r', 'q');
    conversation.apply({ kind: 'assistant', requestId: 'r', final: false, content: 'step', undecryptable: false });
    conversation.apply({ kind: 'assistant', requestId: 'r', final: true, content: '', undecryptable: true });
    expect(conversation.entries[1]).toMatchObject({ kind: 'assistant', progress: ['step'], final: undefined, undecryptable: 1 });
  });

  it('correlates tool results and errors by request_id, falling back to the latest open tool call', () => {
    const conversation = new Conversation();
    conversation.addUser('r1', 'q');
    conversation.apply({ kind: 'tool_call', requestId: 't1', name: 'a', arguments: {} });
    conversation.apply({ kind: 'tool_call', requestId: 't2', name: 'b', arguments: {} });
    conversation.apply({ kind: 'tool_result', requestId: 't1', ok: true, result: 'one' });
    conversation.apply({ kind: 'tool_result', ok: false, error: 'two failed' });
    conversation.apply({ kind: 'error', requestId: 'r1', code: 'turn_timeout', message: 'slow', local: false });
    conversation.apply({ kind: 'error', message: 'loose', local: true });
    expect(conversation.entries).toMatchObject([
      { kind: 'user' },
      { kind: 'tool', name: 'a', result: { ok: true, text: 'one' } },
      { kind: 'tool', name: 'b', result: { ok: false, text: 'two failed' } },
      { kind: 'assistant', requestId: 'r1', failure: 'slow (turn_timeout)' },
      { kind: 'notice', text: 'loose', error: true },
    ]);
  });
});
