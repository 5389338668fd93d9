/**
 * Property tests of reasoning-job parsing: any value the backend's SSE stream could carry becomes a
 * job or a typed ReasoningError; an envelope that names a job (valid job_id) always gets its
 * jobId back, so a failed result can be posted for it.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ReasoningErrorSchema,
  ReasoningJobSchema,
  ReasoningResultSchema,
  parseReasoningJob,
} from '@synthesis-agent/protocol';

const job = fc.record(
  {
    event_type: fc.constant('reasoning_job'),
    job_id: fc.uuid({ version: 4 }),
    purpose: fc.constantFrom('live_analysis', 'session_summary', 'capability_probe'),
    deadline_at: fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    schema_version: fc.constant(1),
    envelope_version: fc.constant(1),
    response_schema: fc.dictionary(fc.string(), fc.jsonValue()),
    payload: fc.jsonValue(),
    provider_kind: fc.string({ minLength: 1 }),
  },
  { requiredKeys: ['event_type', 'job_id', 'purpose', 'deadline_at', 'schema_version', 'envelope_version', 'payload'] },
);

const mutatedJob = fc
  .tuple(job, fc.constantFrom('event_type', 'job_id', 'purpose', 'deadline_at', 'schema_version', 'envelope_version', 'response_schema', 'provider_kind'), fc.jsonValue(), fc.boolean())
  .map(([j, key, value, drop]) => {
    const copy: Record<string, unknown> = { ...j };
    if (drop) delete copy[key];
    else copy[key] = value;
    return copy;
  });

const anyEnvelope = fc.oneof(job, mutatedJob, fc.jsonValue(), fc.anything());

describe('parseReasoningJob', () => {
  it('accepts every well-formed job as is', () => {
    fc.assert(
      fc.property(job, (j) => {
        expect(parseReasoningJob(j)).toEqual({ ok: true, job: ReasoningJobSchema.parse(j) });
      }),
    );
  });

  it('never throws: a job, or a typed error with the job id whenever the envelope names one', () => {
    fc.assert(
      fc.property(anyEnvelope, (raw) => {
        const parsed = parseReasoningJob(raw);
        if (parsed.ok) {
          expect(ReasoningJobSchema.safeParse(parsed.job).success).toBe(true);
          return;
        }
        expect(ReasoningErrorSchema.safeParse(parsed.error).success).toBe(true);
        const named = typeof raw === 'object' && raw !== null && typeof (raw as { job_id?: unknown }).job_id === 'string';
        if (parsed.jobId !== undefined) expect(parsed.jobId).toBe((raw as { job_id: string }).job_id);
        if (!named) expect(parsed.jobId).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('reports other versions as unsupported_version, not as shape errors', () => {
    fc.assert(
      fc.property(job, fc.jsonValue().filter((v) => v !== 1), fc.boolean(), (j, version, which) => {
        const raw = { ...j, [which ? 'schema_version' : 'envelope_version']: version, purpose: 'no such purpose' };
        expect(parseReasoningJob(raw)).toMatchObject({ ok: false, jobId: j.job_id, error: { code: 'unsupported_version' } });
      }),
    );
  });
});

describe('ReasoningResultSchema', () => {
  it('never throws, and holds a completed result to result-without-error', () => {
    const result = fc.record({
      job_id: fc.constant(randomUUID()),
      status: fc.constantFrom('completed', 'failed', 'timed_out', 'other'),
      result: fc.option(fc.jsonValue(), { nil: undefined }),
      error: fc.option(fc.record({ code: fc.constantFrom('turn_failed', 'nope'), message: fc.string() }), { nil: undefined }),
      completed_at: fc.constant(new Date().toISOString()),
      provider_kind: fc.constant('openclaw'),
      schema_version: fc.constant(1),
      envelope_version: fc.constant(1),
    });
    fc.assert(
      fc.property(fc.oneof(result, fc.anything()), (raw) => {
        const parsed = ReasoningResultSchema.safeParse(raw);
        if (!parsed.success) return;
        const r = parsed.data;
        expect(r.status === 'completed').toBe(r.result !== undefined && r.error === undefined);
      }),
      { numRuns: 500 },
    );
  });
});
