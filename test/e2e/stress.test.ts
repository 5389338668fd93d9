/**
 * The real gateway CLI (fake Claude) under hostile or awkward clients: bodies and frames at and
 * over the documented limits (docs/security.md), SSE clients that stop reading or leave
 * mid-stream, and a bounded live fuzz of the HTTP routes and /bridge. Afterwards the gateway must
 * still serve turns and must have logged no error.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_BRIDGE_FRAME_BYTES, TURN_END_PATH } from '@synthesis-agent/protocol';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { postChat, readSse, user } from '../helpers/sse.js';

afterAll(stopAllGateways);

const MIB = 1024 * 1024;
function rssBytes(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;
}

/** POSTs a body of `size` bytes, with or without Content-Length, and resolves with the answer. */
function postLarge(baseUrl: string, size: number, chunked: boolean): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(size) }) },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The gateway may answer and close before it has read everything; that is the point.
    req.on('error', (err) => (err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? undefined : reject(err)));
    const block = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const n = Math.min(block.length, size - sent);
        sent += n;
        if (!req.write(block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/**
 * A streaming request on a raw socket whose reading the test controls: paused, the kernel buffers
 * fill and the gateway sees backpressure exactly as from a slow client.
 */
function rawStream(baseUrl: string, body: unknown, headers: Record<string, string>) {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  socket.pause();
  const json = JSON.stringify(body);
  const head = [
    'POST /v1/chat/completions HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(json)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.write(`${head.join('\r\n')}\r\n\r\n${json}`);
  let received = '';
  return {
    socket,
    /** Reads everything until the gateway closes the connection. */
    async readAll(): Promise<string> {
      socket.setEncoding('utf8').on('data', (d: string) => (received += d));
      socket.resume();
      await once(socket, 'end');
      return received;
    },
    /** Reads until `text` has arrived, then leaves the socket paused. */
    async readUntil(text: string): Promise<void> {
      socket.setEncoding('utf8');
      const onData = (d: string) => {
        received += d;
        if (received.includes(text)) {
          socket.off('data', onData);
          socket.pause();
          found();
        }
      };
      let found!: () => void;
      const done = new Promise<void>((resolve) => (found = resolve));
      socket.on('data', onData);
      socket.resume();
      await done;
    },
  };
}

/** The content of every SSE data chunk in a raw chunked HTTP response, joined. */
function sseContent(raw: string): string {
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  // Undo chunked transfer encoding: size line, data, CRLF.
  let text = '';
  for (let i = 0; ; ) {
    const eol = body.indexOf('\r\n', i);
    const size = parseInt(body.slice(i, eol), 16);
    if (!size) break;
    text += body.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  const parts = text
    .split('\n')
    .filter((l) => l.startsWith('data: ') && l !== 'data: [DONE]')
    .map((l) => (JSON.parse(l.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '');
  return parts.join('');
}

describe('limits, slow and vanishing clients', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--heartbeat-ms', '20', '--max-sessions', '8'] });
  });
  afterAll(async () => {
    expect(gw.logs.filter((l) => l.level >= 50)).toEqual([]);
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  it.each([
    ['with Content-Length', false],
    ['chunked', true],
  ])('answers a 10 MB body %s with 413 at the default limit (8 MiB)', async (_label, chunked) => {
    const res = await postLarge(gw.httpUrl, 10 * 1000 * 1000, chunked);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'request_too_large', message: expect.stringContaining('--max-body-bytes') } });
  });

  it('carries a 1 MiB message to Claude and its 1 MiB answer back (1 MiB bridge frames both ways)', async () => {
    const content = 'x'.repeat(MIB);
    const res = await gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'mib' } }).chat.completions.create({ model: 'm', messages: user(content) });
    expect(res.choices[0]?.message.content).toBe(`echo: ${content}`);
  });

  it('accepts a 1 MiB bridge frame and refuses one over MAX_BRIDGE_FRAME_BYTES with close 1009', async () => {
    const ws = new WebSocket(gw.bridgeUrl);
    await once(ws, 'open');
    ws.send(`"${'y'.repeat(MIB)}"`);
    const [answer] = (await once(ws, 'message')) as [Buffer];
    // Read in full and parsed: the answer is the protocol's, not the transport's.
    expect(JSON.parse(String(answer))).toMatchObject({ type: 'error', code: 'invalid_message' });
    const closed = once(ws, 'close');
    ws.send(Buffer.alloc(MAX_BRIDGE_FRAME_BYTES + 1, 'z'), { binary: false });
    const [code] = (await closed) as [number];
    expect(code).toBe(1009);
  });

  it('refuses a turn too large for one bridge frame with 413 before it reaches Claude, and the session then works', async () => {
    const c = gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'too-big' } });
    await c.chat.completions.create({ model: 'm', messages: user('warm') });
    const pid = (await gw.healthz()).sessions.find((s) => s.key === 'default::too-big')?.pid;
    const err = await c.chat.completions.create({ model: 'm', messages: user('z'.repeat(MAX_BRIDGE_FRAME_BYTES + 1)) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 413, error: { code: 'too_large' } });
    const streamed = await postChat(gw.httpUrl, { model: 'm', stream: true, messages: user('z'.repeat(MAX_BRIDGE_FRAME_BYTES / 2 + 1)) }, { 'X-Openclaw-Chat-Id': 'too-big' });
    expect(streamed.status).toBe(413);
    // The same Claude serves on: nothing was sent to it.
    expect((await gw.healthz()).sessions.find((s) => s.key === 'default::too-big')?.pid).toBe(pid);
    const after = await c.chat.completions.create({ model: 'm', messages: user('small again') });
    expect(after.choices[0]?.message.content).toBe('echo: small again');
  });

  it('keeps memory bounded and other sessions served while SSE clients do not read 2 MiB answers', async () => {
    const size = 2 * MIB;
    const content = (i: number) => `${i}`.repeat(size);
    const warm = await Promise.all([0, 1, 2].map((i) => gw.openai({ headers: { 'X-Openclaw-Chat-Id': `slow-${i}` } }).chat.completions.create({ model: 'm', messages: user('warm') })));
    expect(warm).toHaveLength(3);
    const rssBefore = rssBytes(gw.pid);
    const okBefore = (await gw.healthz()).sessions.filter((s) => s.key.startsWith('default::slow-')).reduce((n, s) => n + s.turns, 0);

    const readers = [0, 1, 2].map((i) => rawStream(gw.httpUrl, { model: 'm', stream: true, messages: user(content(i)) }, { 'X-Openclaw-Chat-Id': `slow-${i}` }));
    // The three turns finish inside the gateway while nobody reads their answers.
    await expect
      .poll(async () => (await gw.healthz()).sessions.filter((s) => s.key.startsWith('default::slow-')).reduce((n, s) => n + s.turns, 0), { timeout: 30_000 })
      .toBe(okBefore + 3);
    // Another session is served meanwhile: a stalled client blocks nothing but its own stream.
    const other = await gw.openai({ headers: { 'X-Openclaw-Chat-Id': 'not-slow' } }).chat.completions.create({ model: 'm', messages: user('quick') });
    expect(other.choices[0]?.message.content).toBe('echo: quick');
    // Each answer is held once (plus JSON framing), not copied per heartbeat or retried.
    const growth = rssBytes(gw.pid) - rssBefore;
    expect(growth).toBeLessThan(3 * size * 6 + 48 * MIB);

    const bodies = await Promise.all(readers.map((r) => r.readAll()));
    bodies.forEach((raw, i) => {
      expect(raw).toContain('data: [DONE]');
      expect(sseContent(raw)).toBe(`echo: ${content(i)}`);
    });
  });

  it('lets a client vanish mid-stream: the turn finishes, its reply is dropped, the next turn gets its own answer', async () => {
    const headers = { 'X-Openclaw-Chat-Id': 'vanish' };
    await gw.openai({ headers }).chat.completions.create({ model: 'm', messages: user('warm') });
    const mark = gw.logs.length;
    const reader = rawStream(gw.httpUrl, { model: 'm', stream: true, messages: user('[[slow:300]] abandoned') }, headers);
    await reader.readUntil('"role":"assistant"');
    reader.socket.destroy();
    await gw.waitForLog((l) => l.msg === 'client disconnected mid-stream; the Claude turn continues' && l.session === 'default::vanish', 10_000, mark);
    await gw.waitForLog((l) => l.msg === 'final reply arrived after its caller went away' && l.session === 'default::vanish', 60_000, mark);
    const next = await gw.openai({ headers }).chat.completions.create({ model: 'm', messages: user('next') });
    expect(next.choices[0]?.message.content).toBe('echo: next');
  });
});

describe('live fuzz', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startTestGateway({ args: ['--heartbeat-ms', '50'] });
  });
  afterAll(async () => {
    const { survivors } = await gw.stop();
    expect(survivors).toEqual([]);
  });

  const textPart = fc.record({ type: fc.constantFrom('text', 'image_url'), text: fc.string() });
  const message = fc.record({ role: fc.constantFrom('system', 'user', 'assistant', 'tool', 'bot'), content: fc.oneof(fc.string(), fc.array(textPart, { maxLength: 2 }), fc.jsonValue()) });
  const body = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.record({ model: fc.oneof(fc.string(), fc.jsonValue()), messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.jsonValue()), stream: fc.oneof(fc.boolean(), fc.jsonValue()), tool_choice: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    fc.string(),
    fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b).toString('latin1')),
  );

  it('answers random chat bodies with a completion or an OpenAI error, never 5xx', async () => {
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async (raw, type) => {
        const res = await fetch(`${gw.httpUrl}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': type, 'X-Openclaw-Chat-Id': 'fuzz' },
          body: raw,
        });
        statuses.add(res.status);
        if (res.status === 200) {
          if (res.headers.get('content-type')?.startsWith('text/event-stream')) expect((await readSse(res)).at(-1)).toBe('[DONE]');
          else expect(await res.json()).toMatchObject({ object: 'chat.completion' });
          return;
        }
        expect(res.status).toBeLessThan(500);
        expect(await res.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
      }),
      { numRuns: 150 },
    );
    expect(statuses.has(400)).toBe(true);
  });

  it('answers random methods and paths without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'), fc.webPath(), async (method, path) => {
        const res = await fetch(`${gw.httpUrl}${path.startsWith('/') ? path : `/${path}`}`, { method, ...(method === 'GET' ? {} : { body: '{}' }) });
        expect(res.status).toBeLessThan(500);
        await res.arrayBuffer();
      }),
      { numRuns: 150 },
    );
  });

  it('answers random requests on the bridge port without a 5xx, and survives bodies cut short', async () => {
    const { port } = new URL(gw.bridgeUrl);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT'), fc.constantFrom(TURN_END_PATH, '/', '/bridge', '/turn-end/'), body, async (method, path, raw) => {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, ...(method === 'GET' ? {} : { body: raw }) });
        expect(res.status).toBeLessThan(500);
        await res.arrayBuffer();
      }),
      { numRuns: 100 },
    );
    for (const sent of [0, 10, 100_000]) {
      const socket = net.connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST ${TURN_END_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${sent + 10}\r\n\r\n${'{'.repeat(sent)}`);
      socket.destroy();
      await once(socket, 'close');
    }
    // Still up: an aborted body left unhandled would have ended the gateway process.
    expect((await fetch(`${gw.httpUrl}/healthz`)).status).toBe(200);
    expect(gw.process.exitCode).toBeNull();
  });

  it('answers random frames on fresh /bridge connections with an error or a close, then still serves turns', async () => {
    const frame = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.record({ type: fc.constantFrom('hello', 'reply', 'ready', 'pong'), openclaw_session: fc.constantFrom('default::fuzz', 'nobody'), claude_session: fc.string(), pid: fc.integer(), token: fc.string() }, { requiredKeys: ['type'] }).map((v) => JSON.stringify(v)),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (raw) => {
        const ws = new WebSocket(gw.bridgeUrl);
        await once(ws, 'open');
        const closed = once(ws, 'close');
        const answer = once(ws, 'message');
        ws.send(raw);
        ws.send('"sentinel"');
        // The sentinel is answered unless the first frame already closed the connection.
        const first = await Promise.race([answer.then(([data]) => JSON.parse(String(data)) as { type: string }), closed.then(() => undefined)]);
        if (first) expect(first.type).toBe('error');
        ws.close();
        await closed;
      }),
      { numRuns: 150 },
    );
    const res = await postChat(gw.httpUrl, { model: 'm', messages: user('after the fuzz') }, { 'X-Openclaw-Chat-Id': 'fuzz' });
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe('echo: after the fuzz');
    expect((await gw.healthz()).sessions.find((s) => s.key === 'default::fuzz')?.state).toBe('ready');
    expect(gw.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});
