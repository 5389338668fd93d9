#!/usr/bin/env node
/**
 * Claude Code Stop hook installed by the gateway (via --settings) in every Claude it launches:
 * `node turn-end-hook.js <session mcp-config file>`. It runs when Claude has finished a turn and
 * tells the gateway (POST /turn-end on the bridge port), so the next channel message is delivered
 * as a new turn instead of a side note of this one.
 *
 * It runs once per turn, so it uses Node core only. A hook must never get in Claude's way:
 * whatever happens it exits 0 quickly and prints nothing on stdout (Claude Code reads a Stop
 * hook's stdout as instructions).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { TURN_END_PATH } from '@synthesis-agent/protocol/constants';
import type { TurnEnd } from '@synthesis-agent/protocol/bridge';

// Claude kills a Stop hook after the 10 s timeout the gateway sets; a busy gateway may be slow to answer.
const GIVE_UP_MS = 8000;

function finish(reason?: string): never {
  if (reason) process.stderr.write(`synthesis turn-end hook: ${reason}\n`);
  process.exit(0);
}

/** The bridge token lives only in the session's MCP config (mode 0600), next to the server it authenticates. */
function tokenFrom(mcpConfigFile: string | undefined): string | undefined {
  if (!mcpConfigFile) return undefined;
  try {
    const config = JSON.parse(readFileSync(mcpConfigFile, 'utf8')) as {
      mcpServers?: Record<string, { env?: Record<string, string> }>;
    };
    return Object.values(config.mcpServers ?? {}).find((s) => s.env?.SYNTHESIS_BRIDGE_TOKEN)?.env?.SYNTHESIS_BRIDGE_TOKEN;
  } catch (err) {
    finish(`cannot read ${mcpConfigFile}: ${(err as Error).message}`);
  }
}

const wsUrl = process.env.SYNTHESIS_WS_URL;
const session = process.env.SYNTHESIS_OPENCLAW_SESSION;
if (!wsUrl || !session) finish('not launched by the SynthesisAgent gateway; nothing to report');
// Claude writes the hook input on stdin; we do not need it, but must not leave the pipe unread.
process.stdin.resume();
setTimeout(() => finish('gateway did not answer in time'), GIVE_UP_MS).unref();

const token = tokenFrom(process.argv[2]);
const frame: TurnEnd = { type: 'turn_end', openclaw_session: session, ...(token ? { token } : {}) };
const bridge = new URL(wsUrl);
const body = JSON.stringify(frame);
const req = request(
  { host: bridge.hostname, port: bridge.port, path: TURN_END_PATH, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
  (res) => {
    let answer = '';
    res.setEncoding('utf8').on('data', (d: string) => (answer += d));
    res.on('end', () => finish(res.statusCode === 204 ? undefined : `gateway answered ${res.statusCode}: ${answer}`));
  },
);
req.on('error', (err) => finish(err.message));
req.end(body);
