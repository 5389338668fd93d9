#!/usr/bin/env node
/**
 * Claude Code stand-in for the bridge-overhead bench. It has the test fake's CLI surface and
 * start-up dialog (reused from test/fixtures), hosts the channel server from --mcp-config like
 * Claude Code, and answers each channel message at once with `echo: <content>`. On the bench's
 * event socket (BENCH_EVENTS, a Unix socket) it reports, per turn, when the message arrived and
 * when the reply tool was called (process.hrtime, CLOCK_MONOTONIC, comparable across processes
 * on one machine), then `settled` once its Stop hooks have run, i.e. once the gateway will
 * deliver the next message at once.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { z } from 'zod';
import { parseArgs, VERSION_TEXT } from '../../test/fixtures/dist/fake-claude/args.js';
import { runStopHooks, stopHookCommands } from '../../test/fixtures/dist/fake-claude/hooks.js';
import { DEV_CHANNELS_DIALOG, print, readKeys } from '../../test/fixtures/dist/fake-claude/terminal.js';

const ChannelNotification = z.object({
  method: z.literal('notifications/claude/channel'),
  params: z.object({ content: z.string(), meta: z.record(z.string(), z.string()).optional() }),
});

const args = parseArgs(process.argv.slice(2));
if (args.kind === 'version') {
  print(VERSION_TEXT);
  process.exit(0);
}
if (args.kind === 'error') {
  process.stderr.write(`${args.message}\n`);
  process.exit(1);
}
const { options } = args;
const name = /^server:(.+)$/.exec(options.channel ?? '')?.[1] ?? 'synthesis';
const text = options.mcpConfig.trimStart().startsWith('{') ? options.mcpConfig : readFileSync(options.mcpConfig, 'utf8');
const server = JSON.parse(text).mcpServers[name];
const hooks = stopHookCommands(options.settings);

const events = net.connect(process.env.BENCH_EVENTS);
const report = (event) => events.write(`${JSON.stringify(event)}\n`);

let client;
process.on('SIGTERM', () => void client?.close().finally(() => process.exit(0)));
process.on('SIGHUP', () => void client?.close().finally(() => process.exit(0)));

print(DEV_CHANNELS_DIALOG(`server:${name}`));
readKeys((keys) => {
  if (client || !/[\r\n1]/.test(keys)) return;
  client = new Client({ name: 'claude-code', version: '2.1.330' }, { capabilities: {} });
  // Arrival is stamped where the transport hands a message to the MCP client, before the client
  // validates and dispatches it: what comes after is this stand-in's own work, not the bridge's.
  const arrivals = new Map();
  client.setNotificationHandler(ChannelNotification, async ({ params }) => {
    const inbound = arrivals.get(params.content);
    arrivals.delete(params.content);
    const reply = process.hrtime.bigint();
    await client.callTool({ name: 'reply', arguments: { text: `echo: ${params.content}`, final: true } });
    report({ ev: 'turn', content: params.content, inbound: String(inbound), reply: String(reply) });
    await runStopHooks(hooks, { session_id: options.sessionId ?? options.resume, hook_event_name: 'Stop' });
    report({ ev: 'settled', content: params.content });
  });
  const transport = new StdioClientTransport({ command: server.command, args: server.args ?? [], env: { ...process.env, ...server.env }, stderr: 'ignore' });
  void client
    .connect(transport)
    .then(() => {
      const deliver = transport.onmessage;
      transport.onmessage = (message, extra) => {
        if (message.method === 'notifications/claude/channel') arrivals.set(message.params.content, process.hrtime.bigint());
        deliver?.(message, extra);
      };
    })
    .then(() => client.listTools())
    .then(() => print(`channel server:${name} connected`));
});
