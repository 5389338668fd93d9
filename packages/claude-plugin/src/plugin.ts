/**
 * One plugin process: dial the gateway bridge, serve the channel over MCP on stdio, relay between
 * the two. Start-up cost is paid once per Claude process, so the bridge dials before the MCP side
 * is loaded: `loadMcp` is a lazy import in main.ts (the hello goes out while the SDK loads) and an
 * already-loaded module in the startup snapshot (snapshot-main.ts). Bridge events wait on the
 * channel server instead of racing it.
 */
import type { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { BridgeClient } from './bridge-client.js';
import type { ChannelServer } from './channel-server.js';
import { parseEnv } from './env.js';
import { createLogger } from './logger.js';
import { Readiness } from './readiness.js';
import { VERSION } from './version.js';

const CLOSE_TIMEOUT_MS = 500;

export interface McpSide {
  ChannelServer: typeof ChannelServer;
  StdioServerTransport: typeof StdioServerTransport;
}

export async function runPlugin(loadMcp: () => Promise<McpSide>): Promise<void> {
  const parsed = parseEnv(process.env);
  if (!parsed.ok) {
    process.stderr.write(`synthesis-claude-plugin: ${parsed.message}\n`);
    process.exit(1);
  }
  const env = parsed.env;
  const logger = createLogger(env.logLevel, env.claudeSession);

  const bridge = new BridgeClient({
    url: env.wsUrl,
    hello: {
      type: 'hello',
      openclaw_session: env.openclawSession,
      claude_session: env.claudeSession,
      pid: process.pid,
      ...(env.token ? { token: env.token } : {}),
    },
    logger,
    handlers: {
      onConnected: () => readiness.connected(),
      onInbound: (inbound) => toClaude('inbound message', (server) => server.deliverInbound(inbound)),
      onPermission: (verdict) => toClaude('permission verdict', (server) => server.deliverPermission(verdict)),
    },
  });

  const readiness = new Readiness(env.readyDelayMs, () => {
    if (!bridge.connected) return; // the next hello_ack announces readiness instead
    bridge.send({ type: 'ready' }).then(
      () => logger.info('ready sent'),
      (err: Error) => logger.warn({ err: err.message }, 'could not send ready'),
    );
  });

  bridge.start();

  const mcp = loadMcp();
  const channel = mcp.then(
    ({ ChannelServer }) =>
      new ChannelServer(
        {
          reply: (text, final) => bridge.send({ type: 'reply', content: text, final }),
          permissionRequest: (request) => {
            bridge.send(request).catch((err: Error) =>
              // Claude Code still shows its own permission dialog, so only the remote answer is lost.
              logger.warn({ err: err.message, request_id: request.request_id }, 'permission_request not relayed'),
            );
          },
          toolsListed: () => readiness.toolsListed(),
        },
        logger,
        VERSION,
      ),
  );

  function toClaude(what: string, deliver: (server: ChannelServer) => Promise<void>): void {
    channel
      .then(deliver)
      .catch((err: Error) => logger.warn({ err: err.message }, `could not deliver ${what} to Claude Code`));
  }

  let stopping = false;
  function shutdown(reason: string): void {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'shutting down');
    readiness.dispose();
    void bridge.close(CLOSE_TIMEOUT_MS).finally(() => process.exit(0));
  }

  // Claude Code exiting (even by SIGKILL) ends our stdin; staying alive would orphan a socket.
  process.stdin.once('end', () => shutdown('stdin ended'));
  process.stdin.once('close', () => shutdown('stdin closed'));
  process.stdout.once('error', () => shutdown('stdout closed'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  const [{ StdioServerTransport }, server] = await Promise.all([mcp, channel]);
  await server.connect(new StdioServerTransport());
  logger.debug('MCP server listening on stdio');
}
