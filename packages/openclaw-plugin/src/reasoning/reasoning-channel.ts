/**
 * The reasoning-job channel, where the gateway is a client of a reasoning backend
 * (docs/reasoning-channel.md): an SSE stream brings job envelopes, the job runner answers them
 * through the session core, results and heartbeats go back by POST.
 */
import { decodeKey, deriveByoKey, encodeKey } from '@synthesis-agent/protocol';
import { ConfigError, type GatewayConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SessionCore } from '../turn.js';
import { backendEndpoints } from './backend-client.js';
import { VERSION } from '../version.js';
import { capabilityProfiler } from './capabilities.js';
import { startHeartbeat } from './heartbeat.js';
import { JobRunner } from './job-runner.js';
import { loadOrCreateKeyPair } from './keys.js';
import { createResultPoster } from './result-poster.js';
import { openSseStream } from './sse-stream.js';

export interface ReasoningChannelOptions {
  core: SessionCore;
  config: GatewayConfig;
  logger: Logger;
  /** `claude --version`, for the capability profile; asked until it first answers. */
  claudeVersion?: () => Promise<string | undefined>;
  hostStatus: () => { liveSessions: number; queueDepth: number };
}

export interface ReasoningChannel {
  close(): Promise<void>;
}

/** SSE event names that carry job envelopes; `undefined` is the default `message` event. */
const JOB_EVENTS = new Set([undefined, 'message', 'reasoning_job']);

/**
 * Starts the channel; call it when config.reasoningUrl is set. Throws ConfigError when the
 * integration id or relay token is missing or the backend public key is unusable, and
 * KeyFileError when the key file cannot be used.
 */
export function startReasoningChannel(options: ReasoningChannelOptions): ReasoningChannel {
  const { core, config } = options;
  const integrationId = config.reasoningIntegrationId;
  const relayToken = config.reasoningRelayToken;
  if (!config.reasoningUrl || !integrationId || !relayToken) {
    const missing = [
      !config.reasoningUrl && '--reasoning-url',
      !integrationId && '--reasoning-integration-id',
      !relayToken && '--reasoning-relay-token',
    ].filter(Boolean);
    throw new ConfigError(`the reasoning channel needs ${missing.join(', ')} (or their SYNTHESIS_REASONING_* env variables)`);
  }
  const logger = options.logger.child({ component: 'reasoning', integration: integrationId });
  const keys = loadOrCreateKeyPair(config.stateDir, logger);
  let byoKey: Uint8Array | undefined;
  if (config.reasoningBackendPub) {
    try {
      byoKey = deriveByoKey(keys.secretKey, decodeKey(config.reasoningBackendPub, '--reasoning-backend-pub'), config.reasoningHkdfInfo);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }

  const endpoints = backendEndpoints(config, integrationId, relayToken);
  const profile = capabilityProfiler({
    providerKind: config.reasoningProviderKind,
    workspace: config.workspace,
    byo: {
      public_key: encodeKey(keys.publicKey),
      paired: byoKey !== undefined,
      kdf: 'HKDF-SHA256',
      hkdf_info: config.reasoningHkdfInfo,
      aead: 'XChaCha20-Poly1305',
    },
    claudeVersion: options.claudeVersion,
  });
  const runner = new JobRunner({
    core,
    integrationId,
    providerKind: config.reasoningProviderKind,
    byoKey,
    postResult: createResultPoster({ endpoints, logger }),
    profile,
    logger,
  });
  const heartbeat = startHeartbeat({
    url: endpoints.heartbeat,
    auth: endpoints.auth,
    intervalMs: config.reasoningHeartbeatMs,
    logger,
    body: async () => {
      const host = options.hostStatus();
      return {
        status: 'online',
        sent_at: new Date().toISOString(),
        host: {
          version: VERSION,
          uptime_s: Math.floor(process.uptime()),
          live_sessions: host.liveSessions,
          queue_depth: host.queueDepth,
          pending_jobs: runner.pending,
        },
        capabilities: await profile(),
      };
    },
  });
  const stream = openSseStream({
    url: endpoints.stream,
    headers: endpoints.auth,
    logger,
    onEvent: (event) => {
      if (JOB_EVENTS.has(event.event)) runner.accept(event.data);
      else logger.debug({ event: event.event }, 'ignored reasoning stream event');
    },
  });
  // A refused relay token would be refused for heartbeats too: the channel stops as a whole.
  void stream.stopped.then((refused) => (refused ? heartbeat.stop() : undefined));
  logger.info({ url: config.reasoningUrl, byoPaired: byoKey !== undefined, sessionKey: runner.sessionKey }, 'reasoning channel started');

  return {
    async close() {
      await stream.close();
      await runner.close();
      await heartbeat.stop();
    },
  };
}
