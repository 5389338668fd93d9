/**
 * The reasoning-job channel (shared/specs/reasoning-channel.md): a backend pushes job envelopes
 * over SSE, an assistant plugin answers each one with a result POST and reports liveness with a
 * heartbeat. The gateway and the reference backend in test/fixtures both parse with these schemas,
 * so what one side sends is exactly what the other accepts. Choices the spec leaves open are
 * written down in docs/reasoning-channel.md.
 */
import { z } from 'zod';
import { describeZodError } from './bridge.js';

/** The only versions this code speaks; anything else is refused with a failed result. */
export const REASONING_SCHEMA_VERSION = 1;
export const REASONING_ENVELOPE_VERSION = 1;

export const ReasoningPurposeSchema = z.enum(['live_analysis', 'session_summary', 'capability_probe']);

/** Standard or URL-safe base64; decoders accept both so either side may pick its alphabet. */
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]+={0,2}$/, 'expected base64');

/** A BYO-encrypted payload or result: XChaCha20-Poly1305 ciphertext (tag appended) and its nonce. */
export const ByoEnvelopeSchema = z.strictObject({ ciphertext: base64, nonce: base64 });

const isoDate = z.iso.datetime({ offset: true });

/**
 * A job envelope. Unknown fields are ignored rather than refused: a backend may add optional
 * fields within one envelope_version, and only a version bump may change what known fields mean.
 */
export const ReasoningJobSchema = z.object({
  event_type: z.literal('reasoning_job'),
  job_id: z.uuid(),
  purpose: ReasoningPurposeSchema,
  deadline_at: isoDate,
  schema_version: z.literal(REASONING_SCHEMA_VERSION),
  envelope_version: z.literal(REASONING_ENVELOPE_VERSION),
  response_schema: z.record(z.string(), z.unknown()).optional(),
  payload: z.unknown(),
  provider_kind: z.string().min(1).optional(),
});

export const ReasoningResultStatusSchema = z.enum(['completed', 'failed', 'timed_out']);

export const ReasoningErrorCodeSchema = z.enum([
  'invalid_envelope', // not ReasoningJobSchema, or response_schema missing where needed / unusable
  'unsupported_version', // schema_version or envelope_version other than 1
  'provider_mismatch', // provider_kind names another provider
  'byo_not_paired', // BYO payload but no backend public key configured
  'decrypt_failed', // BYO payload failed authentication (tampered, wrong key, bad nonce)
  'invalid_payload', // decrypted BYO payload is not JSON
  'schema_mismatch', // the answer failed response_schema twice
  'turn_failed', // the Claude turn failed (TurnError)
  'deadline_exceeded', // with status timed_out
  'shutting_down', // the gateway stopped before the job finished
]);

export const ReasoningErrorSchema = z.strictObject({ code: ReasoningErrorCodeSchema, message: z.string() });

/**
 * The completion POST body. `result` is present exactly when status is completed: the answer as
 * JSON, or a ByoEnvelope holding that JSON when the job was BYO. `error` is always plaintext and
 * never quotes payload or answer content, so it is safe to show a blind relay.
 */
export const ReasoningResultSchema = z
  .strictObject({
    job_id: z.uuid(),
    status: ReasoningResultStatusSchema,
    result: z.unknown().optional(),
    error: ReasoningErrorSchema.optional(),
    completed_at: isoDate,
    provider_kind: z.string().min(1),
    schema_version: z.literal(REASONING_SCHEMA_VERSION),
    envelope_version: z.literal(REASONING_ENVELOPE_VERSION),
  })
  .refine((r) => (r.status === 'completed') === (r.result !== undefined) && (r.status === 'completed') === (r.error === undefined), {
    message: 'completed results carry result and no error; others carry error and no result',
  });

/** The answer to a capability_probe, also sent in every heartbeat. */
export const CapabilityProfileSchema = z.strictObject({
  provider_kind: z.string().min(1),
  gateway_version: z.string(),
  /** null when `claude --version` could not be run. */
  claude_code_version: z.string().nullable(),
  protocol: z.strictObject({
    schema_versions: z.array(z.number().int()),
    envelope_versions: z.array(z.number().int()),
  }),
  purposes: z.array(ReasoningPurposeSchema),
  byo: z.strictObject({
    /** Our X25519 public key (base64url), which the backend needs for pairing. */
    public_key: z.string(),
    /** Whether a backend public key is configured, i.e. BYO jobs can be decrypted. */
    paired: z.boolean(),
    kdf: z.literal('HKDF-SHA256'),
    hkdf_info: z.string(),
    aead: z.literal('XChaCha20-Poly1305'),
  }),
  /** Claude Code skills found on disk (user and workspace skill directories). */
  skills: z.array(z.string()),
});

export const HeartbeatSchema = z.strictObject({
  status: z.literal('online'),
  sent_at: isoDate,
  host: z.strictObject({
    version: z.string(),
    uptime_s: z.number().int().nonnegative(),
    live_sessions: z.number().int().nonnegative(),
    /** Turns waiting in the gateway's session queues. */
    queue_depth: z.number().int().nonnegative(),
    /** Reasoning jobs accepted and not yet reported. */
    pending_jobs: z.number().int().nonnegative(),
  }),
  capabilities: CapabilityProfileSchema,
});

export type ReasoningPurpose = z.infer<typeof ReasoningPurposeSchema>;
export type ByoEnvelope = z.infer<typeof ByoEnvelopeSchema>;
export type ReasoningJob = z.infer<typeof ReasoningJobSchema>;
export type ReasoningResultStatus = z.infer<typeof ReasoningResultStatusSchema>;
export type ReasoningErrorCode = z.infer<typeof ReasoningErrorCodeSchema>;
export type ReasoningError = z.infer<typeof ReasoningErrorSchema>;
export type ReasoningResult = z.infer<typeof ReasoningResultSchema>;
export type CapabilityProfile = z.infer<typeof CapabilityProfileSchema>;
export type Heartbeat = z.infer<typeof HeartbeatSchema>;

export type JobParseResult =
  | { ok: true; job: ReasoningJob }
  /** `jobId` is set when the envelope is addressable, so a failed result can be posted. */
  | { ok: false; jobId?: string; error: ReasoningError };

const AddressSchema = z.object({ job_id: z.uuid() });

/**
 * Validates an envelope in two steps: first whether it names a job at all (otherwise nobody can
 * be told it failed), then versions before shape, so a version-2 envelope is reported as
 * unsupported rather than as a pile of field errors from guessing at it.
 */
export function parseReasoningJob(raw: unknown): JobParseResult {
  const address = AddressSchema.safeParse(raw);
  if (!address.success) {
    return { ok: false, error: { code: 'invalid_envelope', message: 'envelope has no valid job_id (uuid)' } };
  }
  const jobId = address.data.job_id;
  const { schema_version, envelope_version } = raw as Record<string, unknown>;
  if (schema_version !== REASONING_SCHEMA_VERSION || envelope_version !== REASONING_ENVELOPE_VERSION) {
    const message = `unsupported schema_version ${JSON.stringify(schema_version)} / envelope_version ${JSON.stringify(envelope_version)} (supported: ${REASONING_SCHEMA_VERSION} / ${REASONING_ENVELOPE_VERSION})`;
    return { ok: false, jobId, error: { code: 'unsupported_version', message } };
  }
  const parsed = ReasoningJobSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, jobId, error: { code: 'invalid_envelope', message: describeZodError(parsed.error) } };
  }
  return { ok: true, job: parsed.data };
}
