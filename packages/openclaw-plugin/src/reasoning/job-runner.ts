/**
 * Turns stream events into job results: validates each envelope, processes every job_id once,
 * opens BYO payloads, answers capability probes from the profile and everything else with a
 * schema-checked turn on the integration's own Claude session, enforces deadline_at, and posts
 * exactly one result per job.
 */
import {
  ByoEnvelopeSchema,
  decryptByo,
  encryptByo,
  parseReasoningJob,
  REASONING_ENVELOPE_VERSION,
  REASONING_SCHEMA_VERSION,
  type ByoEnvelope,
  type CapabilityProfile,
  type JobParseResult,
  type ReasoningErrorCode,
  type ReasoningJob,
  type ReasoningResult,
} from '@synthesis-agent/protocol';
import type { Logger } from '../logger.js';
import type { SessionCore } from '../turn.js';
import type { PostResult } from './result-poster.js';
import { compileResponseSchema, runSchemaTurn, type JobOutcome } from './schema-turn.js';

/** How many job ids are remembered for de-duplication (oldest forgotten first). */
const REMEMBERED_JOBS = 10_000;
/** A result produced at or after its deadline (timed_out) still gets this long to be delivered. */
const LATE_RESULT_GRACE_MS = 10_000;
/** At shutdown, how long results (shutting_down ones included) may still take to deliver. */
const SHUTDOWN_POST_MS = 5_000;
/** setTimeout's largest delay; a later deadline is checked again when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface JobRunnerOptions {
  core: SessionCore;
  integrationId: string;
  providerKind: string;
  /** The key shared with the backend when BYO pairing is configured. */
  byoKey: Uint8Array | undefined;
  postResult: PostResult;
  profile: () => Promise<CapabilityProfile>;
  logger: Logger;
}

const failed = (code: ReasoningErrorCode, message: string): JobOutcome => ({ status: 'failed', error: { code, message } });
const timedOut = (message: string): JobOutcome => ({ status: 'timed_out', error: { code: 'deadline_exceeded', message } });
const SHUTTING_DOWN = failed('shutting_down', 'the gateway stopped before the job finished');

export class JobRunner {
  /** `reasoning::<integration id>`: every job of the integration shares one Claude session. */
  readonly sessionKey: string;
  private readonly seen = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  /** Jobs take the session one at a time, so a retry turn directly follows its own first turn. */
  private sessionTail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: JobRunnerOptions) {
    this.sessionKey = `reasoning::${options.integrationId}`;
  }

  /** Jobs accepted and not yet reported. */
  get pending(): number {
    return this.inFlight.size;
  }

  /**
   * Takes one stream event's data. Never throws: a bad event must not break the stream. Data
   * whose event_type names something else is another kind of event and is left alone.
   */
  accept(data: string): void {
    const { logger } = this.options;
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      logger.warn('reasoning stream event is not JSON; dropped');
      return;
    }
    const eventType = (raw as { event_type?: unknown } | null)?.event_type;
    if (eventType !== undefined && eventType !== 'reasoning_job') {
      logger.debug({ eventType }, 'ignored non-job event');
      return;
    }
    const parsed = parseReasoningJob(raw);
    const jobId = parsed.ok ? parsed.job.job_id : parsed.jobId;
    if (jobId === undefined) {
      logger.warn({ error: parsed.ok ? undefined : parsed.error }, 'reasoning job without a usable job_id dropped');
      return;
    }
    if (this.seen.has(jobId)) {
      logger.info({ job: jobId }, 'duplicate reasoning job ignored');
      return;
    }
    this.seen.add(jobId);
    if (this.seen.size > REMEMBERED_JOBS) this.seen.delete(this.seen.values().next().value as string);
    const run = this.process(jobId, parsed).finally(() => this.inFlight.delete(run));
    this.inFlight.add(run);
  }

  /** Abandons running jobs (reported as failed: shutting_down) and waits for their reports. */
  async close(): Promise<void> {
    this.shutdown.abort();
    await Promise.allSettled(this.inFlight);
  }

  private async process(jobId: string, parsed: JobParseResult): Promise<void> {
    const log = this.options.logger.child({ job: jobId });
    if (!parsed.ok) {
      log.warn({ error: parsed.error }, 'reasoning job refused');
      return this.report(jobId, failed(parsed.error.code, parsed.error.message), undefined, undefined);
    }
    const { job } = parsed;
    const byo = ByoEnvelopeSchema.safeParse(job.payload);
    const deadline = Date.parse(job.deadline_at);
    log.info({ purpose: job.purpose, deadlineAt: job.deadline_at, byo: byo.success }, 'reasoning job received');
    const outcome = await this.settle(job, deadline, byo.success ? byo.data : undefined);
    log.info({ status: outcome.status, error: outcome.status === 'completed' ? undefined : outcome.error }, 'reasoning job done');
    return this.report(jobId, outcome, deadline, byo.success ? this.options.byoKey : undefined);
  }

  /** The job's outcome, or timed_out / shutting_down if its deadline or shutdown comes first. */
  private async settle(job: ReasoningJob, deadline: number, byo: ByoEnvelope | undefined): Promise<JobOutcome> {
    if (deadline <= Date.now()) return timedOut(`deadline_at ${job.deadline_at} had passed when the job arrived`);
    if (this.shutdown.signal.aborted) return SHUTTING_DOWN;
    const { providerKind } = this.options;
    if (job.provider_kind !== undefined && job.provider_kind !== providerKind) {
      return failed('provider_mismatch', `job is for provider_kind ${job.provider_kind}; this gateway serves ${providerKind}`);
    }
    const abandon = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const abandoned = new Promise<JobOutcome>((resolve) => {
      const armDeadline = () => {
        const left = deadline - Date.now();
        if (left > 0) timer = setTimeout(armDeadline, Math.min(left, MAX_TIMER_MS));
        else resolve(timedOut(`not done by deadline_at ${job.deadline_at}`));
      };
      armDeadline();
      const onShutdown = () => resolve(SHUTTING_DOWN);
      this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
      abandon.signal.addEventListener('abort', () => this.shutdown.signal.removeEventListener('abort', onShutdown), { once: true });
    });
    try {
      return await Promise.race([abandoned, this.execute(job, byo, abandon.signal)]);
    } finally {
      clearTimeout(timer);
      abandon.abort();
    }
  }

  private async execute(job: ReasoningJob, byo: ByoEnvelope | undefined, signal: AbortSignal): Promise<JobOutcome> {
    let payload = job.payload;
    if (byo) {
      const { byoKey } = this.options;
      if (!byoKey) return failed('byo_not_paired', 'BYO payload, but no backend public key is configured (--reasoning-backend-pub)');
      let text: string;
      try {
        text = decryptByo(byoKey, byo);
      } catch (err) {
        return failed('decrypt_failed', (err as Error).message);
      }
      try {
        payload = JSON.parse(text);
      } catch {
        return failed('invalid_payload', 'decrypted payload is not JSON');
      }
    }
    if (job.purpose === 'capability_probe') {
      const profile = await this.options.profile();
      // The profile is the answer unless the backend asked for a shape it does not have; then
      // the model writes that shape from the profile.
      if (!job.response_schema || matchesSchema(profile, job.response_schema)) return { status: 'completed', result: profile };
      payload = { request: payload, capability_profile: profile };
    }
    const responseSchema = job.response_schema;
    if (!responseSchema) return failed('invalid_envelope', `response_schema is required for purpose ${job.purpose}`);
    return this.onSession(signal, () =>
      runSchemaTurn({
        core: this.options.core,
        sessionKey: this.sessionKey,
        chatId: this.options.integrationId,
        jobId: job.job_id,
        purpose: job.purpose,
        payload,
        responseSchema,
        signal,
      }),
    );
  }

  /** Runs `turns` once the session is free; a job abandoned while waiting never starts. */
  private onSession(signal: AbortSignal, turns: () => Promise<JobOutcome>): Promise<JobOutcome> {
    // An abandoned job's outcome is already decided; the value returned here is never reported.
    const run = this.sessionTail.then(() => (signal.aborted ? SHUTTING_DOWN : turns()));
    this.sessionTail = run.catch(() => undefined);
    return run;
  }

  private async report(jobId: string, outcome: JobOutcome, deadline: number | undefined, byoKey: Uint8Array | undefined): Promise<void> {
    const { providerKind, postResult } = this.options;
    const body: ReasoningResult = {
      job_id: jobId,
      status: outcome.status,
      ...(outcome.status === 'completed'
        ? { result: byoKey ? encryptByo(byoKey, JSON.stringify(outcome.result)) : outcome.result }
        : { error: outcome.error }),
      completed_at: new Date().toISOString(),
      provider_kind: providerKind,
      schema_version: REASONING_SCHEMA_VERSION,
      envelope_version: REASONING_ENVELOPE_VERSION,
    };
    const now = Date.now();
    let giveUpAt = deadline !== undefined && deadline > now ? deadline : now + LATE_RESULT_GRACE_MS;
    if (this.shutdown.signal.aborted) giveUpAt = Math.min(giveUpAt, now + SHUTDOWN_POST_MS);
    await postResult(body, giveUpAt, this.shutdown.signal);
  }
}

/** Whether `value` already satisfies `schema`; a schema that does not compile is left to the turn to report. */
function matchesSchema(value: unknown, schema: Record<string, unknown>): boolean {
  try {
    return compileResponseSchema(schema)(value) === true;
  } catch {
    return false;
  }
}
