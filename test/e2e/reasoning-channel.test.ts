/**
 * The reasoning-job channel end to end over real HTTP: startReasoningChannel against the
 * reference backend (SSE stream, completion and heartbeat endpoints, BYO on its side), with a
 * session core whose answers each test scripts per job.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByoEnvelopeSchema, type ReasoningResult } from '@synthesis-agent/protocol';
import { ConfigError, validateConfig, type GatewayConfig } from '../../packages/openclaw-plugin/src/config.js';
import { startReasoningChannel, type ReasoningChannel } from '../../packages/openclaw-plugin/src/reasoning/reasoning-channel.js';
import type { SessionCore, TurnRequest, TurnResult } from '../../packages/openclaw-plugin/src/turn.js';
import { captureLogs, type LogCapture } from '../fixtures/dist/reasoning-backend/log-capture.js';
import { ReferenceBackend } from '../fixtures/dist/reasoning-backend/server.js';

const TOKEN = 'relay-token-never-logged-7f3a';
const INTEGRATION = 'int-1';

type Answer = string | Promise<string>;

/** A session core whose answers are scripted per job id; unscripted jobs get a valid summary. */
class ScriptedCore implements SessionCore {
  readonly requests: TurnRequest[] = [];
  private readonly scripts = new Map<string, Answer[]>();

  answer(jobId: string, ...answers: Answer[]): void {
    this.scripts.set(jobId, answers);
  }

  turnsFor(jobId: string): TurnRequest[] {
    return this.requests.filter((r) => r.requestId.startsWith(jobId));
  }

  async runTurn(request: TurnRequest): Promise<TurnResult> {
    this.requests.push(request);
    const jobId = request.requestId.replace(/:retry$/, '');
    const text = await (this.scripts.get(jobId)?.shift() ?? JSON.stringify({ summary: `done ${jobId}` }));
    return { text, chunks: [text] };
  }

  sessions() {
    return [];
  }
}

interface Harness {
  backend: ReferenceBackend;
  core: ScriptedCore;
  logs: LogCapture;
  config: GatewayConfig;
  channel: ReasoningChannel;
  stateDir: string;
  stop(): Promise<void>;
}

async function startHarness(overrides: Record<string, unknown> = {}, backendToken = TOKEN): Promise<Harness> {
  const backend = await ReferenceBackend.start({ integrationId: INTEGRATION, relayToken: backendToken, retryMs: 20 });
  const stateDir = mkdtempSync(path.join(tmpdir(), 'reasoning-e2e-'));
  const config = validateConfig({
    reasoningUrl: backend.url,
    reasoningIntegrationId: INTEGRATION,
    reasoningRelayToken: TOKEN,
    reasoningBackendPub: backend.publicKey,
    reasoningHeartbeatMs: 100,
    stateDir,
    workspace: stateDir,
    ...overrides,
  });
  const core = new ScriptedCore();
  const logs = captureLogs();
  const channel = startReasoningChannel({
    core,
    config,
    logger: logs.logger,
    claudeVersion: async () => '2.1.330 (Claude Code)',
    hostStatus: () => ({ liveSessions: 3, queueDepth: 1 }),
  });
  return {
    backend,
    core,
    logs,
    config,
    channel,
    stateDir,
    async stop() {
      await channel.close();
      await backend.close();
      rmSync(stateDir, { recursive: true, force: true });
      expect(logs.text()).not.toContain(TOKEN);
      expect(backend.invalidBodies).toEqual([]);
    },
  };
}

describe('reasoning channel against the reference backend', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await h.backend.waitForConnections(1);
    await h.backend.waitForHeartbeats(1);
  });
  afterAll(() => h.stop());

  /** Publishes a job and waits for its result. */
  async function run(envelope: Record<string, unknown> & { job_id: string }, eventName?: string | undefined): Promise<ReasoningResult> {
    h.backend.publish(envelope, ...(eventName === undefined ? [] : [eventName]));
    return h.backend.waitForCompletion(envelope.job_id);
  }

  it('sends heartbeats with host status and the capability profile', async () => {
    const beat = await h.backend.waitForHeartbeats(2);
    const stored = JSON.parse(readFileSync(path.join(h.stateDir, 'reasoning-x25519.json'), 'utf8')) as { public_key: string };
    expect(beat.host).toMatchObject({ live_sessions: 3, queue_depth: 1, pending_jobs: 0, version: expect.any(String) });
    expect(beat.capabilities).toMatchObject({
      provider_kind: 'openclaw',
      claude_code_version: '2.1.330 (Claude Code)',
      protocol: { schema_versions: [1], envelope_versions: [1] },
      purposes: ['live_analysis', 'session_summary', 'capability_probe'],
      byo: { public_key: stored.public_key, paired: true, kdf: 'HKDF-SHA256', hkdf_info: 'stagewhisper-byo-v1', aead: 'XChaCha20-Poly1305' },
      // What is found depends on this machine's ~/.claude; discoverSkills has its own unit test.
      skills: expect.any(Array),
    });
  });

  it('answers live_analysis with a schema-checked turn on the integration session', async () => {
    const job = h.backend.job('live_analysis', { payload: { transcript: 'the CFO asked about Q3' } });
    h.core.answer(job.job_id, '{"summary":"Q3 question"}');
    const result = await run(job);
    expect(result).toMatchObject({ job_id: job.job_id, status: 'completed', result: { summary: 'Q3 question' }, provider_kind: 'openclaw' });
    const [turn] = h.core.turnsFor(job.job_id);
    expect(turn).toMatchObject({ sessionKey: `reasoning::${INTEGRATION}`, chatId: INTEGRATION, requestId: job.job_id });
    expect(turn!.content).toContain('the CFO asked about Q3');
    expect(turn!.content).toContain('JSON only');
  });

  it('takes envelopes from default (unnamed) events too: session_summary', async () => {
    const job = h.backend.job('session_summary');
    const result = await run(job, undefined);
    expect(result).toMatchObject({ status: 'completed', result: { summary: `done ${job.job_id}` } });
  });

  it('answers capability_probe from the profile without a model turn', async () => {
    const plain = h.backend.job('capability_probe', { response_schema: undefined });
    expect(await run(plain)).toMatchObject({ status: 'completed', result: { provider_kind: 'openclaw', claude_code_version: '2.1.330 (Claude Code)' } });
    const shaped = h.backend.job('capability_probe', { response_schema: { type: 'object', required: ['provider_kind', 'skills'] } });
    expect(await run(shaped)).toMatchObject({ status: 'completed', result: { provider_kind: 'openclaw', skills: expect.any(Array) } });
    expect(h.core.turnsFor(plain.job_id)).toHaveLength(0);
    expect(h.core.turnsFor(shaped.job_id)).toHaveLength(0);
  });

  it('asks the model when a capability_probe wants a shape the profile lacks', async () => {
    const job = h.backend.job('capability_probe', { payload: { ask: 'skills' } });
    h.core.answer(job.job_id, '{"summary":"I can summarise"}');
    expect(await run(job)).toMatchObject({ status: 'completed', result: { summary: 'I can summarise' } });
    const [turn] = h.core.turnsFor(job.job_id);
    expect(turn!.content).toContain('"capability_profile"');
    expect(turn!.content).toContain('"ask": "skills"');
  });

  it('round-trips a BYO job: decrypts the payload, encrypts the result', async () => {
    const payload = { transcript: 'confidential merger talk' };
    const job = h.backend.job('live_analysis', { payload: h.backend.encryptForGateway(payload) });
    h.core.answer(job.job_id, '{"summary":"merger"}');
    const result = await run(job);
    expect(result.status).toBe('completed');
    expect(ByoEnvelopeSchema.safeParse(result.result).success).toBe(true);
    expect(JSON.stringify(result)).not.toContain('merger');
    expect(h.backend.decryptFromGateway(result.result)).toEqual({ summary: 'merger' });
    expect(h.core.turnsFor(job.job_id)[0]!.content).toContain('confidential merger talk');
  });

  it('fails a tampered BYO payload with a reason, without a turn', async () => {
    const box = h.backend.encryptForGateway({ transcript: 'x' });
    const bytes = Buffer.from(box.ciphertext, 'base64');
    bytes[bytes.length - 1]! ^= 0x80;
    const job = h.backend.job('session_summary', { payload: { ...box, ciphertext: bytes.toString('base64') } });
    const result = await run(job);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'decrypt_failed', message: expect.stringContaining('authentication') } });
    expect(result.result).toBeUndefined();
    expect(h.core.turnsFor(job.job_id)).toHaveLength(0);
  });

  it('retries a schema-invalid answer once with the errors', async () => {
    const job = h.backend.job('live_analysis');
    h.core.answer(job.job_id, 'Sure! Here is the analysis.', '{"summary":"second try"}');
    expect(await run(job)).toMatchObject({ status: 'completed', result: { summary: 'second try' } });
    const turns = h.core.turnsFor(job.job_id);
    expect(turns.map((t) => t.requestId)).toEqual([job.job_id, `${job.job_id}:retry`]);
    expect(turns[1]!.content).toContain('the answer is not JSON');
  });

  it('fails after the retry is invalid too', async () => {
    const job = h.backend.job('session_summary');
    h.core.answer(job.job_id, '{"summary":1}', '{"summary":2}');
    expect(await run(job)).toMatchObject({ status: 'failed', error: { code: 'schema_mismatch', message: expect.stringContaining('/summary must be string') } });
  });

  it('abandons a job at its deadline, and times out a queued one without a turn', async () => {
    let release!: (text: string) => void;
    const hanging = new Promise<string>((resolve) => (release = resolve));
    const slow = h.backend.job('live_analysis', { deadline_at: new Date(Date.now() + 600).toISOString() });
    const queued = h.backend.job('live_analysis', { deadline_at: new Date(Date.now() + 300).toISOString() });
    const after = h.backend.job('session_summary');
    h.core.answer(slow.job_id, hanging);
    h.backend.publish(slow);
    h.backend.publish(queued);
    h.backend.publish(after);
    try {
      const queuedResult = await h.backend.waitForCompletion(queued.job_id);
      expect(queuedResult).toMatchObject({ status: 'timed_out', error: { code: 'deadline_exceeded' } });
      expect(h.core.turnsFor(queued.job_id)).toHaveLength(0);
      const slowResult = await h.backend.waitForCompletion(slow.job_id);
      expect(slowResult).toMatchObject({ status: 'timed_out', error: { code: 'deadline_exceeded' } });
      expect(Date.parse(slowResult.completed_at)).toBeGreaterThanOrEqual(Date.parse(slow.deadline_at as string));
      // The abandoned turn still holds the session (Claude is still answering it).
      expect(h.core.turnsFor(after.job_id)).toHaveLength(0);
    } finally {
      release('{"summary":"too late"}');
    }
    expect(await h.backend.waitForCompletion(after.job_id)).toMatchObject({ status: 'completed' });
    expect(h.backend.completionAttempts.filter((a) => a.jobId === slow.job_id)).toHaveLength(1);
  });

  it('reports a job already past its deadline at once', async () => {
    const job = h.backend.job('live_analysis', { deadline_at: new Date(Date.now() - 1000).toISOString() });
    expect(await run(job)).toMatchObject({ status: 'timed_out', error: { code: 'deadline_exceeded', message: expect.stringContaining('had passed') } });
    expect(h.core.turnsFor(job.job_id)).toHaveLength(0);
  });

  it('refuses unknown versions, bad envelopes and other providers with failed results', async () => {
    const v2 = h.backend.job('live_analysis', { envelope_version: 2 });
    expect(await run(v2)).toMatchObject({ status: 'failed', error: { code: 'unsupported_version' } });
    const bad = h.backend.job('live_analysis', { purpose: 'poetry' });
    expect(await run(bad)).toMatchObject({ status: 'failed', error: { code: 'invalid_envelope', message: expect.stringContaining('purpose') } });
    const noSchema = h.backend.job('live_analysis', { response_schema: undefined });
    expect(await run(noSchema)).toMatchObject({ status: 'failed', error: { code: 'invalid_envelope', message: expect.stringContaining('response_schema') } });
    const hermes = h.backend.job('live_analysis', { provider_kind: 'hermes' });
    expect(await run(hermes)).toMatchObject({ status: 'failed', error: { code: 'provider_mismatch' } });
    for (const job of [v2, bad, noSchema, hermes]) expect(h.core.turnsFor(job.job_id)).toHaveLength(0);
  });

  it('processes a duplicate job_id once and leaves other events alone', async () => {
    const job = h.backend.job('session_summary');
    h.backend.publish(job);
    h.backend.publish(job);
    h.backend.publish({ event_type: 'integration_updated', id: 1 }, undefined);
    h.backend.publish({ anything: true }, 'ping');
    // Events are handled in order, so once a later job is done the duplicate has been seen.
    const sentinel = h.backend.job('session_summary');
    await run(sentinel);
    await h.backend.waitForCompletion(job.job_id);
    expect(h.core.turnsFor(job.job_id)).toHaveLength(1);
    expect(h.backend.completionAttempts.filter((a) => a.jobId === job.job_id)).toEqual([{ jobId: job.job_id, status: 204 }]);
    expect(h.logs.lines.some((l) => l.msg === 'duplicate reasoning job ignored' && l.job === job.job_id)).toBe(true);
  });

  it('resumes a dropped stream with Last-Event-ID, getting only what it missed', async () => {
    const connections = h.backend.connections.length;
    const first = h.backend.job('live_analysis');
    const firstId = h.backend.publish(first);
    await h.backend.waitForCompletion(first.job_id);
    h.backend.dropStreams();
    const missed = h.backend.job('live_analysis');
    const missedId = h.backend.publish(missed);
    const resumed = await h.backend.waitForConnections(connections + 1);
    expect(resumed).toMatchObject({ status: 200, lastEventId: firstId, replayed: [missedId] });
    expect(await h.backend.waitForCompletion(missed.job_id)).toMatchObject({ status: 'completed' });
  });

  it('retries a completion POST that failed transiently', async () => {
    h.backend.failCompletions(1);
    const job = h.backend.job('session_summary');
    expect(await run(job)).toMatchObject({ status: 'completed' });
    expect(h.backend.completionAttempts.filter((a) => a.jobId === job.job_id).map((a) => a.status)).toEqual([503, 204]);
  });
});

describe('reasoning channel set-up and shutdown', () => {
  it('stops on 401 with a clear error instead of reconnecting', async () => {
    const h = await startHarness({}, 'the-backend-wants-another-token');
    try {
      await h.logs.waitFor('the 401 error', (l) => l.level === 50 && String(l.msg).includes('HTTP 401'));
      expect(h.backend.connections).toEqual([{ status: 401, replayed: [] }]);
    } finally {
      await h.stop();
    }
  });

  it('refuses to start without integration id or relay token, or with a bad backend key', () => {
    const logger = captureLogs().logger;
    const base = { reasoningUrl: 'http://127.0.0.1:9', stateDir: tmpdir() };
    const start = (extra: Record<string, unknown>) => () =>
      startReasoningChannel({ core: new ScriptedCore(), config: validateConfig({ ...base, ...extra }), logger, hostStatus: () => ({ liveSessions: 0, queueDepth: 0 }) });
    expect(start({ reasoningRelayToken: TOKEN })).toThrow(ConfigError);
    expect(start({ reasoningRelayToken: TOKEN })).toThrow(/--reasoning-integration-id/);
    expect(start({ reasoningIntegrationId: INTEGRATION })).toThrow(/--reasoning-relay-token/);
    expect(start({ reasoningIntegrationId: INTEGRATION, reasoningRelayToken: TOKEN, reasoningBackendPub: 'short' })).toThrow(/--reasoning-backend-pub must be 32 bytes/);
  });

  it('fails BYO jobs when not paired, and reports running jobs as shutting_down on close', async () => {
    const h = await startHarness({ reasoningBackendPub: undefined });
    let stopped = false;
    try {
      await h.backend.waitForHeartbeats(1);
      expect(h.backend.heartbeats[0]!.capabilities.byo.paired).toBe(false);
      const byo = h.backend.job('live_analysis', { payload: h.backend.encryptForGateway({ a: 1 }) });
      h.backend.publish(byo);
      expect(await h.backend.waitForCompletion(byo.job_id)).toMatchObject({ status: 'failed', error: { code: 'byo_not_paired' } });

      const running = h.backend.job('live_analysis');
      h.core.answer(running.job_id, new Promise<string>(() => {}));
      h.backend.publish(running);
      await h.backend.waitFor('the turn to start', () => h.core.turnsFor(running.job_id)[0]);
      await h.channel.close();
      expect(await h.backend.waitForCompletion(running.job_id)).toMatchObject({ status: 'failed', error: { code: 'shutting_down' } });
      stopped = true;
    } finally {
      if (!stopped) await h.channel.close();
      await h.stop();
    }
  });
});
