/**
 * The webchannel end to end: a Node `ws` client → the real gateway CLI's /ws → session core →
 * fake Claude (PTY, claude-plugin, bridge) and back, paired with the code the gateway logged.
 */
import { once } from 'node:events';
import { x25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { base64UrlDecode, base64UrlEncode, deriveE2eKey, openE2e, sealE2e, type E2eBox, type Envelope } from '@synthesis-agent/protocol';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';

afterAll(stopAllGateways);

const CODE_LINE = /^webchannel pairing code: (\d{6}) \(expires in \d+ s\)$/;

const codeOf = (msg: string) => CODE_LINE.exec(msg)?.[1];

/** A socket whose frames are queued, so a test can wait for the next one of a kind. */
async function connect(gw: TestGateway) {
  const ws = new WebSocket(`${gw.httpUrl.replace('http', 'ws')}/ws`, { origin: gw.httpUrl });
  const frames: Envelope[] = [];
  const arrived = new EventTarget();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Envelope);
    arrived.dispatchEvent(new Event('frame'));
  });
  await once(ws, 'open');
  const next = async (type: string, requestId?: string): Promise<Envelope> => {
    const deadline = AbortSignal.timeout(30_000);
    for (;;) {
      const index = frames.findIndex((f) => f.type === type && (requestId === undefined || f.request_id === requestId));
      if (index >= 0) return frames.splice(index, 1)[0]!;
      await once(arrived, 'frame', { signal: deadline }).catch(() => {
        throw new Error(`no ${type} frame for ${requestId}; got ${JSON.stringify(frames)}`);
      });
    }
  };
  const send = (type: string, payload: Record<string, unknown>, extras: Record<string, unknown> = {}) =>
    ws.send(JSON.stringify({ v: 1, type, session_id: 'e2e-session', ...extras, payload }));
  return { ws, next, send };
}

describe('webchannel through the real gateway', () => {
  let gw: TestGateway;
  let client: Awaited<ReturnType<typeof connect>>;
  let token: string;
  let key: Uint8Array;
  let firstCode: { code: string; index: number };

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--permissions', 'relay'] });
    const index = gw.logs.findIndex((l) => codeOf(l.msg));
    firstCode = { code: codeOf(gw.logs[index]!.msg)!, index };
    client = await connect(gw);
    const browser = x25519.keygen();
    client.send('pairing_request', { pairing_code: firstCode.code, client_pub: base64UrlEncode(browser.publicKey) });
    const result = (await client.next('pairing_result')).payload as { access_token: string; e2e: { agent_pub: string } };
    token = result.access_token;
    key = deriveE2eKey(x25519.getSharedSecret(browser.secretKey, base64UrlDecode(result.e2e.agent_pub)));
  });
  afterAll(async () => {
    client?.ws.terminate();
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  const say = (content: string, requestId: string) =>
    client.send('user_message', { e2e: sealE2e(key, { content, sender_id: 'tester' }) }, { request_id: requestId, access_token: token });
  const text = (frame: Envelope) => openE2e(key, (frame.payload as { e2e: E2eBox }).e2e).content;

  it('logs a fresh code after the first was used', async () => {
    const next = await gw.waitForLog((l) => codeOf(l.msg) !== undefined, 60_000, firstCode.index + 1);
    expect(codeOf(next.msg)).not.toBe(firstCode.code);
  });

  it("answers with fake Claude's reply, encrypted", async () => {
    say('hello gateway', 'r1');
    expect(text(await client.next('assistant_final', 'r1'))).toBe('echo: hello gateway');
    const session = (await gw.healthz()).sessions.find((s) => s.key === 'webchannel::default::e2e-session');
    expect(session).toBeDefined();
  });

  it('streams progress chunks live before the final reply', async () => {
    say('[[chunks:2]]', 'r2');
    expect(text(await client.next('assistant_chunk', 'r2'))).toBe('chunk 1 ');
    expect(text(await client.next('assistant_chunk', 'r2'))).toBe('chunk 2 ');
    expect(text(await client.next('assistant_final', 'r2'))).toBe('done');
  });

  it('relays a permission request and the approval back to Claude', async () => {
    say('[[permission:Bash]]', 'r3');
    const request = await client.next('approval_request');
    expect((request.payload as { action: string }).action).toMatch(/^Bash: /);
    client.send('approval_response', { approved: true }, { request_id: request.request_id, access_token: token });
    expect(text(await client.next('assistant_final', 'r3'))).toBe('permission allow for Bash');
  });

  it('reports a Claude crash as an error event with its code', async () => {
    say('[[crash]]', 'r4');
    const error = await client.next('error', 'r4');
    expect(error.payload).toMatchObject({ code: 'claude_exited' });
    // The next message starts Claude again.
    say('after the crash', 'r5');
    expect(text(await client.next('assistant_final', 'r5'))).toBe('echo: after the crash');
  });

  it('serves the chat page at /', async () => {
    const res = await fetch(`${gw.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const script = /src="(\/ui\/app-[\w-]+\.js)"/.exec(await res.text())?.[1];
    const bundle = await fetch(`${gw.httpUrl}${script}`);
    expect(bundle.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(bundle.headers.get('cache-control')).toContain('immutable');
  });
});
