#!/usr/bin/env node
/**
 * The transport floor for bench 1: the same hops a turn takes (HTTP request → WebSocket frame →
 * stdio line into a third process, and back to an SSE delta), with nothing but a relay at each
 * step. What the bench measures beyond this is what the gateway and the plugin add; this part is
 * what three Node processes and their wake-ups cost on the machine.
 *
 *   node floor-relay.mjs http   → prints its port; each POST is relayed as a frame to the ws relay
 *   node floor-relay.mjs ws     → (spawned by http) WebSocket server; relays frames to a sink's stdin
 *   node floor-relay.mjs sink   → (spawned by ws) stamps arrival like timed-claude, answers at once
 *
 * The sink reports `turn` events on BENCH_EVENTS like bench/lib/timed-claude.mjs, so the bench
 * reads both the same way.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { createInterface } from 'node:readline';
import WebSocket, { WebSocketServer } from 'ws';

const self = new URL(import.meta.url).pathname;
const role = process.argv[2];

function lines(stream, onLine) {
  createInterface({ input: stream }).on('line', onLine);
}

if (role === 'sink') {
  const events = net.connect(process.env.BENCH_EVENTS);
  process.stdin.on('end', () => events.end(() => process.exit(0)));
  lines(process.stdin, (line) => {
    const inbound = process.hrtime.bigint();
    const { content } = JSON.parse(line);
    const reply = process.hrtime.bigint();
    process.stdout.write(`${JSON.stringify({ content, text: `echo: ${content}` })}\n`);
    events.write(`${JSON.stringify({ ev: 'turn', content, inbound: String(inbound), reply: String(reply) })}\n`);
  });
} else if (role === 'ws') {
  const sink = spawn(process.execPath, [self, 'sink'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('listening', () => process.stdout.write(`${wss.address().port}\n`));
  wss.on('connection', (socket) => {
    socket.on('message', (data) => sink.stdin.write(`${data}\n`));
    lines(sink.stdout, (line) => socket.send(line));
  });
  process.stdin.on('end', () => sink.stdin.end()).resume();
  sink.on('exit', () => process.exit(0));
} else if (role === 'http') {
  const relay = spawn(process.execPath, [self, 'ws'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => lines(relay.stdout, resolve));
  const socket = new WebSocket(`ws://127.0.0.1:${port}`);
  await new Promise((resolve) => socket.once('open', resolve));
  const waiting = new Map();
  socket.on('message', (data) => {
    const { content, text } = JSON.parse(String(data));
    waiting.get(content)?.(text);
    waiting.delete(content);
  });
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d) => (body += d));
    req.on('end', () => {
      const content = JSON.parse(body).messages.at(-1).content;
      waiting.set(content, (text) => {
        const delta = { choices: [{ index: 0, delta: { content: text } }] };
        res.end(`data: ${JSON.stringify(delta)}\n\ndata: [DONE]\n\n`);
      });
      socket.send(JSON.stringify({ content }));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
  process.stdin.on('end', () => relay.stdin.end()).resume();
  relay.on('exit', () => process.exit(0));
} else {
  process.stderr.write('usage: floor-relay.mjs http|ws|sink\n');
  process.exit(2);
}
