/**
 * The reasoning channel inside the real gateway CLI: --reasoning-url pointing at the reference
 * backend, jobs answered by real sessions of the fake Claude (which answers `echo: <content>`,
 * never JSON, and obeys `[[never]]` found in the prompt).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, stopAllGateways, type TestGateway } from '../helpers/gateway.js';
import { ReferenceBackend } from '../fixtures/dist/reasoning-backend/server.js';

const TOKEN = 'gateway-e2e-relay-token-5d1c';
const INTEGRATION = 'int-e2e';

afterAll(stopAllGateways);

describe('reasoning channel in the gateway CLI', () => {
  let backend: ReferenceBackend;
  let gw: TestGateway;

  beforeAll(async () => {
    backend = await ReferenceBackend.start({ integrationId: INTEGRATION, relayToken: TOKEN, retryMs: 20 });
    gw = await startTestGateway({
      args: [
        '--reasoning-url', backend.url,
        '--reasoning-integration-id', INTEGRATION,
        '--reasoning-backend-pub', backend.publicKey,
        '--reasoning-heartbeat-ms', '200',
      ],
      // The token goes by env, as a deployment should pass it (argv is visible to every user).
      env: { SYNTHESIS_REASONING_RELAY_TOKEN: TOKEN },
    });
    await backend.waitForConnections(1);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('heartbeats with the real Claude version and the BYO public key', async () => {
    const beat = await backend.waitForHeartbeats(1);
    expect(beat.capabilities).toMatchObject({ claude_code_version: '2.1.330', byo: { paired: true } });
    expect(beat.host.live_sessions).toBe(0);
  });

  it('answers a capability probe without starting a Claude session', async () => {
    const job = backend.job('capability_probe', { response_schema: undefined });
    backend.publish(job);
    expect(await backend.waitForCompletion(job.job_id)).toMatchObject({ status: 'completed', result: { provider_kind: 'openclaw' } });
    expect((await gw.healthz()).liveSessions).toBe(0);
  });

  it('runs a BYO job as turns on the reasoning session, retrying once when the answer is not JSON', async () => {
    const job = backend.job('live_analysis', { payload: backend.encryptForGateway({ transcript: 'hello' }) });
    backend.publish(job);
    const result = await backend.waitForCompletion(job.job_id, 30_000);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'schema_mismatch', message: expect.stringContaining('not JSON') } });
    const session = (await gw.healthz()).sessions.find((s) => s.key === `reasoning::${INTEGRATION}`);
    expect(session?.turns).toBe(2);
  });

  it('times out a job the model never answers, and reports the queued one as shutting_down on SIGTERM', async () => {
    const stuck = backend.job('session_summary', {
      payload: { transcript: '[[never]]' },
      deadline_at: new Date(Date.now() + 1500).toISOString(),
    });
    const queued = backend.job('session_summary');
    backend.publish(stuck);
    backend.publish(queued);
    expect(await backend.waitForCompletion(stuck.job_id)).toMatchObject({ status: 'timed_out' });
    const { code, survivors } = await gw.stop();
    expect(code).toBe(0);
    expect(survivors).toEqual([]);
    expect(await backend.waitForCompletion(queued.job_id)).toMatchObject({ status: 'failed', error: { code: 'shutting_down' } });
    expect(JSON.stringify(gw.logs)).not.toContain(TOKEN);
    expect(backend.invalidBodies).toEqual([]);
  });
});
