/**
 * Property tests of the bridge protocol: parseFrame in both directions, and the gateway's bridge
 * server fed random frames over a real socket and random requests on its POST /turn-end. Every
 * frame ends as a parsed message or a typed `error` frame (a bad frame after hello never costs
 * the connection); every request as 204 or a typed error with a 4xx status.
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  BridgeErrorSchema,
  GatewayToPluginSchema,
  PluginToGatewaySchema,
  TURN_END_PATH,
  TurnEndSchema,
  bridgeError,
  parseFrame,
  type BridgeErrorCode,
  type GatewayToPlugin,
  type PluginToGateway,
} from '@synthesis-agent/protocol';
import { startBridgeServer, type BridgeServer } from '../../packages/openclaw-plugin/src/bridge-server.js';

const ERROR_CODES: BridgeErrorCode[] = ['invalid_json', 'invalid_message', 'unexpected_message', 'unknown_session', 'unauthorized', 'not_connected', 'internal'];
const nonEmpty = fc.string({ minLength: 1 });

const pluginFrame = fc.oneof(
  fc.record(
    { type: fc.constant('hello'), openclaw_session: nonEmpty, claude_session: nonEmpty, pid: fc.integer({ min: 1 }), token: nonEmpty },
    { requiredKeys: ['type', 'openclaw_session', 'claude_session', 'pid'] },
  ),
  fc.constant({ type: 'ready' }),
  fc.record({ type: fc.constant('reply'), content: fc.string(), final: fc.boolean() }, { requiredKeys: ['type', 'content'] }),
  fc.constant({ type: 'pong' }),
  fc.record({ type: fc.constant('error'), code: fc.constantFrom(...ERROR_CODES), message: fc.string() }),
  fc.record({ type: fc.constant('permission_request'), request_id: nonEmpty, tool_name: fc.string(), description: fc.string(), input_preview: fc.string() }),
);

const turnEnd = fc.record({ type: fc.constant('turn_end'), openclaw_session: nonEmpty, token: nonEmpty }, { requiredKeys: ['type', 'openclaw_session'] });

const gatewayFrame = fc.oneof(
  fc.constant({ type: 'hello_ack' }),
  fc.record({ type: fc.constant('inbound'), content: fc.string(), meta: fc.record({ chat_id: fc.string(), message_id: fc.string(), ts: fc.string() }) }),
  fc.constant({ type: 'ping' }),
  fc.record({ type: fc.constant('error'), code: fc.constantFrom(...ERROR_CODES), message: fc.string() }),
  fc.record({ type: fc.constant('permission'), request_id: nonEmpty, behavior: fc.constantFrom('allow', 'deny') }),
);

/** A valid frame with one key set to anything, dropped, or an extra key added. */
function mutated(frames: fc.Arbitrary<Record<string, unknown>>) {
  return fc.tuple(frames, fc.string({ maxLength: 12 }), fc.jsonValue(), fc.constantFrom('set', 'drop', 'add')).map(([frame, key, value, how]) => {
    const copy: Record<string, unknown> = { ...frame };
    const keys = Object.keys(copy);
    const target = how === 'add' ? `x_${key}` : keys[key.length % keys.length]!;
    if (how === 'drop') delete copy[target];
    else copy[target] = value;
    return copy;
  });
}

/** Text frames as a confused or hostile peer sends them. */
const rawFrame = (frames: fc.Arbitrary<Record<string, unknown>>) =>
  fc.oneof(
    frames.map((f) => JSON.stringify(f)),
    mutated(frames).map((f) => JSON.stringify(f)),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string(),
    fc.string().map((s) => `{"type":${JSON.stringify(s)}`),
  );

function expectTypedError(error: unknown): void {
  const parsed = BridgeErrorSchema.safeParse(error);
  expect(parsed.success).toBe(true);
  // The error is itself a frame the other side accepts.
  expect(GatewayToPluginSchema.safeParse(error).success).toBe(true);
  expect(PluginToGatewaySchema.safeParse(error).success).toBe(true);
}

describe('parseFrame', () => {
  it('round-trips every valid frame in both directions', () => {
    fc.assert(
      fc.property(pluginFrame, (frame) => {
        const parsed = parseFrame(PluginToGatewaySchema, JSON.stringify(frame));
        expect(parsed).toEqual({ ok: true, value: frame.type === 'reply' ? { final: true, ...frame } : frame });
      }),
    );
    fc.assert(
      fc.property(gatewayFrame, (frame) => {
        expect(parseFrame(GatewayToPluginSchema, JSON.stringify(frame))).toEqual({ ok: true, value: frame });
      }),
    );
    fc.assert(
      fc.property(turnEnd, (frame) => {
        expect(parseFrame(TurnEndSchema, JSON.stringify(frame))).toEqual({ ok: true, value: frame });
        // turn_end is not a socket frame: it has its own HTTP endpoint.
        expect(parseFrame(PluginToGatewaySchema, JSON.stringify(frame)).ok).toBe(false);
      }),
    );
  });

  it('never throws: anything else is a typed invalid_json / invalid_message error', () => {
    for (const [schema, frames] of [
      [PluginToGatewaySchema, pluginFrame],
      [GatewayToPluginSchema, gatewayFrame],
      [TurnEndSchema, turnEnd],
    ] as const) {
      fc.assert(
        fc.property(rawFrame(frames as fc.Arbitrary<Record<string, unknown>>), (raw) => {
          const parsed = parseFrame(schema, raw);
          if (parsed.ok) return;
          expect(['invalid_json', 'invalid_message']).toContain(parsed.error.code);
          expectTypedError(parsed.error);
        }),
        { numRuns: 500 },
      );
    }
  });
});

/** A raw client of the bridge that collects what the server sends. */
async function connect(url: string) {
  const ws = new WebSocket(url);
  const received: GatewayToPlugin[] = [];
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.on('message', (data) => received.push(JSON.parse(String(data)) as GatewayToPlugin));
  await once(ws, 'open');
  /** Resolves once `count` frames have arrived in all. */
  const until = (count: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (received.length < count) return;
        clearTimeout(timer);
        ws.off('message', check);
        resolve();
      };
      const timer = setTimeout(() => {
        ws.off('message', check);
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(received)}`));
      }, 5000);
      // Registered after the collector above, so `received` already holds the new frame.
      ws.on('message', check);
      check();
    });
  return { ws, received, closed, until };
}

describe('bridge server under random frames', () => {
  let bridge: BridgeServer;
  const delivered: PluginToGateway[] = [];

  beforeAll(async () => {
    bridge = await startBridgeServer({
      host: '127.0.0.1',
      port: 0,
      pingMs: 60_000,
      logger: pino({ level: 'silent' }),
      routes: {
        attach: (hello) =>
          hello.token === 'good'
            ? { onMessage: (message) => delivered.push(message), onClose: () => undefined }
            : bridgeError('unauthorized', 'wrong token'),
        turnEnded: (message) => {
          if (message.openclaw_session === 'nobody') return bridgeError('unknown_session', 'no such session');
          return message.token === 'good' ? undefined : bridgeError('unauthorized', 'wrong token');
        },
      },
    });
  });
  afterAll(() => bridge.close());

  it('after hello: each bad frame earns one error, each good one reaches the session, the connection stays', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rawFrame(fc.oneof(pluginFrame, turnEnd)), { maxLength: 15 }), async (sent) => {
        const expectedErrors = sent.filter((raw) => {
          const parsed = parseFrame(PluginToGatewaySchema, raw);
          return !parsed.ok || parsed.value.type === 'hello';
        }).length;
        const expectedDelivered = sent.filter((raw) => {
          const parsed = parseFrame(PluginToGatewaySchema, raw);
          return parsed.ok && !['hello', 'pong'].includes(parsed.value.type);
        }).length;

        delivered.length = 0;
        const client = await connect(bridge.url);
        client.ws.send(JSON.stringify({ type: 'hello', openclaw_session: 's', claude_session: 'c', pid: 1, token: 'good' }));
        await client.until(1, 'hello_ack');
        expect(client.received[0]).toEqual({ type: 'hello_ack' });
        for (const raw of sent) client.ws.send(raw);
        client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
        // The binary frame's error comes last: the server handles frames in order, so every
        // earlier one has been delivered or answered by then.
        await client.until(1 + expectedErrors + 1, 'the answers');
        expect(client.received).toHaveLength(1 + expectedErrors + 1);
        expect(delivered).toHaveLength(expectedDelivered);
        for (const error of client.received.slice(1)) {
          expect(error.type).toBe('error');
          expectTypedError(error);
        }
        expect(client.ws.readyState).toBe(WebSocket.OPEN);
        client.ws.close();
        await client.closed;
      }),
      { numRuns: 40 },
    );
  });

  it('before hello: every frame but a pong is answered with an error, a refused hello also with close 1008', async () => {
    await fc.assert(
      fc.asyncProperty(rawFrame(fc.oneof(pluginFrame, turnEnd)), async (raw) => {
        const client = await connect(bridge.url);
        client.ws.send(raw);
        const parsed = parseFrame(PluginToGatewaySchema, raw);
        const hello = parsed.ok && parsed.value.type === 'hello' ? parsed.value : undefined;
        if (hello?.token === 'good') {
          await client.until(1, 'hello_ack');
          expect(client.received).toEqual([{ type: 'hello_ack' }]);
          client.ws.close();
        } else if (hello) {
          await client.until(1, 'an error');
          expectTypedError(client.received[0]);
          expect(await client.closed).toBe(1008);
        } else {
          // A pong only resets the heartbeat, so it is answered with nothing; the sentinel after
          // it shows the server read it and went on.
          const silent = parsed.ok && parsed.value.type === 'pong';
          client.ws.send('"sentinel"');
          await client.until(silent ? 1 : 2, 'the errors');
          expect(client.received).toHaveLength(silent ? 1 : 2);
          for (const error of client.received) expectTypedError(error);
          client.ws.close();
        }
        await client.closed;
      }),
      { numRuns: 150 },
    );
  });

  /** One raw HTTP request to the bridge port; resolves with status and parsed JSON body (if any). */
  function request(method: string, path: string, body: string, headers: Record<string, string> = {}) {
    const { port } = new URL(bridge.url);
    return new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers every POST /turn-end with 204 or a typed error and a 4xx status', async () => {
    const body = fc.oneof(
      fc.record({ type: fc.constant('turn_end'), openclaw_session: fc.constantFrom('s', 'nobody'), token: fc.constantFrom('good', 'bad') }).map((f) => JSON.stringify(f)),
      rawFrame(fc.oneof(turnEnd, pluginFrame)),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(TURN_END_PATH, '/', '/turn-end/x', '/bridge'), fc.constantFrom('POST', 'GET', 'PUT'), async (raw, path, method) => {
        const { status, json } = await request(method, path, method === 'GET' ? '' : raw);
        const parsed = parseFrame(TurnEndSchema, raw);
        if (path === TURN_END_PATH && method === 'POST' && parsed.ok && parsed.value.token === 'good' && parsed.value.openclaw_session !== 'nobody') {
          expect(status).toBe(204);
          return;
        }
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
        expectTypedError(json);
      }),
      { numRuns: 200 },
    );
    const browser = await request('POST', TURN_END_PATH, JSON.stringify({ type: 'turn_end', openclaw_session: 's', token: 'good' }), { origin: 'http://evil.example' });
    expect(browser.status).toBe(403);
  });

  it('survives turn-end requests that stop mid-body or overflow the body limit', async () => {
    const { port } = new URL(bridge.url);
    for (const bytes of [10, 70 * 1024]) {
      const socket = net.connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST ${TURN_END_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${bytes + 100}\r\n\r\n`);
      socket.write('x'.repeat(bytes));
      socket.destroy();
      await once(socket, 'close');
    }
    // Still serving: the aborted bodies cost nothing but their own requests.
    const ok = await request('POST', TURN_END_PATH, JSON.stringify({ type: 'turn_end', openclaw_session: 's', token: 'good' }));
    expect(ok.status).toBe(204);
  });
});
