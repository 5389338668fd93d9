/**
 * Starts and stops a whole gateway: HTTP front door, bridge server, session core. The CLI and the
 * OpenClaw plugin service both call `startGateway`, so there is one way to run it.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { startBridgeServer } from './bridge-server.js';
import { ConfigError, type GatewayConfig } from './config.js';
import { createHttpApp } from './http-app.js';
import { checkBindHost } from './http-guards.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { preparePluginSnapshot } from './plugin-snapshot.js';
import { checkClaudeVersion } from './claude-version.js';
import type { ReasoningChannel } from './reasoning/reasoning-channel.js';
import { SessionManager } from './session-manager.js';
import { StateStore } from './state-store.js';
import { VERSION } from './version.js';
import { registerUiRoutes } from './webchannel/ui-routes.js';
import { createWebchannel, type Webchannel } from './webchannel/webchannel-server.js';

export type { GatewayConfig } from './config.js';
export { loadConfig, validateConfig } from './config.js';

export interface RunningGateway {
  httpUrl: string;
  bridgeUrl: string;
  core: SessionManager;
  /** Version of the Claude Code CLI found at start. */
  claudeVersion: string;
  logger: Logger;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

export { VERSION } from './version.js';

export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger(config);
  // The CLI and the OpenClaw service both come through here, so both get the bind rule.
  const bind = checkBindHost(config.host, config.apiKey);
  if (!bind.ok) throw new ConfigError(bind.error);
  if (bind.warning) logger.warn({ host: config.host }, bind.warning);
  // Fail once, clearly, at start rather than in every session: missing, broken or pre-channels CLI.
  const claudeVersion = await checkClaudeVersion(config.claudeCommand, options.env).then(
    (found) => found.version,
    (err: Error) => {
      throw new ConfigError(err.message);
    },
  );
  const pluginSnapshot = await preparePluginSnapshot(config.cacheDir, logger);
  const metrics = createMetrics();
  const store = new StateStore(config.stateDir, logger);

  // The bridge URL must exist before any Claude is launched; the session core learns it here.
  const launch = {
    claudeCommand: config.claudeCommand,
    claudeArgs: config.claudeArg,
    bridgeUrl: '',
    runDir: path.join(config.stateDir, 'run'),
    trustWorkspaces: config.trustWorkspace,
    env: options.env ?? process.env,
    pluginSnapshot,
  };
  const core = new SessionManager({ config, launch, store, metrics, logger });
  const bridge = await startBridgeServer({
    host: '127.0.0.1',
    port: config.bridgePort,
    pingMs: config.pingMs,
    routes: core,
    logger,
    onConnectionCount: (n) => metrics.bridgeConnections.set(n),
  });
  launch.bridgeUrl = bridge.url;

  const app = createHttpApp({
    core,
    logger,
    metrics,
    heartbeatMs: config.heartbeatMs,
    replyMode: config.replyMode,
    maxBodyBytes: config.maxBodyBytes,
    apiKey: config.apiKey,
    allowedHosts: config.allowedHost,
    bindHost: config.host,
    limits: { maxSessions: config.maxSessions, idleTimeoutMs: config.idleTimeoutMs, queueDepth: config.queueDepth },
    version: VERSION,
  });
  registerUiRoutes(app);

  let server: Server;
  let reasoning: ReasoningChannel | undefined;
  let webchannel: Webchannel | undefined;
  try {
    webchannel = await createWebchannel({ core, config, logger, publicOrigin: () => httpUrl });
    // After the bridge is up: a job may start a Claude session at once. Loaded only when
    // configured: its modules cost ~1.5 MiB a gateway without a reasoning backend never needs.
    reasoning = config.reasoningUrl
      ? (await import('./reasoning/reasoning-channel.js')).startReasoningChannel({
          core,
          config,
          logger,
          claudeVersion: () => Promise.resolve(claudeVersion),
          hostStatus: () => ({ liveSessions: core.liveSessions(), queueDepth: core.queueDepth() }),
        })
      : undefined;
    server = await listen(app.fetch, config.host, config.port);
  } catch (err) {
    await webchannel?.close();
    await reasoning?.close();
    await bridge.close();
    await core.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const httpUrl = `http://${host}:${port}`;
  const channel = webchannel;
  // Upgrades bypass the Hono app: /ws is the webchannel, any other path is refused.
  server.on('upgrade', (req, socket, head) => {
    if (req.url?.split('?')[0] === '/ws') channel.handleUpgrade(req, socket, head);
    else socket.destroy();
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info('gateway stopping');
      server.close();
      // Before the core: running jobs are reported as shutting_down and no new ones start.
      await reasoning?.close();
      // Fails in-flight turns (their SSE streams get an error chunk and [DONE]) and stops every Claude.
      await core.close();
      // After the core, so browsers get their turns' shutting_down errors before the close frame.
      await channel.close();
      await bridge.close();
      server.closeAllConnections();
      logger.info('gateway stopped');
    })());

  logger.info(
    { httpUrl, bridgeUrl: bridge.url, version: VERSION, claudeVersion },
    `SynthesisAgent gateway ready on ${httpUrl} (bridge ${bridge.url}, Claude Code ${claudeVersion})`,
  );
  return { httpUrl, bridgeUrl: bridge.url, core, claudeVersion, logger, close };
}

function listen(fetch: Parameters<typeof serve>[0]['fetch'], hostname: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname, port }, () => resolve(server as Server)) as Server;
    server.once('error', reject);
  });
}
