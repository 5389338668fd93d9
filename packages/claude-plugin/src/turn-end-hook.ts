#!/usr/bin/env node
/**
 * Claude Code Stop hook installed by the gateway (via --settings) in every Claude it launches.
 * It runs when Claude has finished a turn and tells the gateway over the bridge, so the next
 * channel message is delivered as a new turn instead of a side note of this one.
 *
 * A hook must never get in Claude's way: whatever happens, it exits 0 quickly and prints nothing
 * on stdout (Claude Code reads a Stop hook's stdout as instructions).
 */
import WebSocket from 'ws';
import type { TurnEnd } from '@synthesis-agent/protocol/bridge';

const GIVE_UP_MS = 3000;

function finish(reason?: string): never {
  if (reason) process.stderr.write(`synthesis turn-end hook: ${reason}\n`);
  process.exit(0);
}

const url = process.env.SYNTHESIS_WS_URL;
const session = process.env.SYNTHESIS_OPENCLAW_SESSION;
if (!url || !session) finish('not launched by the SynthesisAgent gateway; nothing to report');

// Claude writes the hook input on stdin; we do not need it, but must not leave the pipe unread.
process.stdin.resume();
setTimeout(() => finish('gateway did not answer in time'), GIVE_UP_MS).unref();

const frame: TurnEnd = {
  type: 'turn_end',
  openclaw_session: session,
  ...(process.env.SYNTHESIS_BRIDGE_TOKEN ? { token: process.env.SYNTHESIS_BRIDGE_TOKEN } : {}),
};
const ws = new WebSocket(url);
ws.on('open', () => ws.send(JSON.stringify(frame)));
// The gateway answers by closing the socket (with an error frame first if it refused).
ws.on('message', (data) => process.stderr.write(`synthesis turn-end hook: gateway said ${String(data)}\n`));
ws.on('close', () => finish());
ws.on('error', (err) => finish(err.message));
