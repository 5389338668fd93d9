/**
 * Asks Claude for a JSON answer that must validate against a job's response_schema: one turn,
 * and when the answer is not valid JSON for the schema, one more turn that quotes the validation
 * errors. Validation is ajv 8, picking the draft from `$schema` (2020-12, 2019-09, else draft-07).
 */
import type { ReasoningError, ReasoningJob } from '@synthesis-agent/protocol';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { TurnError, type SessionCore } from '../turn.js';

/** How a job ended, before it is addressed, encrypted and posted. */
export type JobOutcome = { status: 'completed'; result: unknown } | { status: 'failed' | 'timed_out'; error: ReasoningError };

/** How many validation errors a retry prompt or a failure message quotes. */
const MAX_ERRORS = 5;

const PURPOSE_TASK: Record<ReasoningJob['purpose'], string> = {
  live_analysis: 'Analyse the live session described by the request payload.',
  session_summary: 'Summarise the session described by the request payload.',
  capability_probe: "Describe this assistant's capabilities; the payload holds the request and the profile already known.",
};

export interface SchemaTurnRequest {
  core: SessionCore;
  sessionKey: string;
  chatId: string;
  jobId: string;
  purpose: ReasoningJob['purpose'];
  payload: unknown;
  responseSchema: Record<string, unknown>;
  /** Aborted at the job's deadline: no retry turn is started after that. */
  signal: AbortSignal;
}

/**
 * Compiles a response_schema. A new Ajv per job: schemas carrying an `$id` would otherwise
 * collide with an earlier job's, and jobs are rare next to the model turn they wait for.
 */
export function compileResponseSchema(schema: Record<string, unknown>): ValidateFunction {
  const draft = typeof schema.$schema === 'string' ? schema.$schema : '';
  const AjvClass = draft.includes('2020-12') ? Ajv2020 : draft.includes('2019-09') ? Ajv2019 : Ajv;
  // strict off: backends write schemas for many validators, and an unknown keyword (or `format`,
  // which needs ajv-formats) should not fail a job whose answer is otherwise checkable.
  return new AjvClass({ allErrors: true, strict: false, validateFormats: false }).compile(schema);
}

export type AnswerCheck = { ok: true; value: unknown } | { ok: false; errors: string };

/** Parses the answer as JSON (tolerating one surrounding Markdown code fence) and validates it. */
export function checkAnswer(text: string, validate: ValidateFunction): AnswerCheck {
  const fenced = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n\s*```$/.exec(text.trim());
  let value: unknown;
  try {
    value = JSON.parse(fenced?.[1] ?? text);
  } catch {
    // Not V8's message: it quotes the answer, which must not reach a BYO job's plaintext error.
    return { ok: false, errors: 'the answer is not JSON' };
  }
  if (validate(value)) return { ok: true, value };
  const errors = (validate.errors ?? []).slice(0, MAX_ERRORS);
  const describe = (e: (typeof errors)[number]) => {
    const extra = typeof e.params.additionalProperty === 'string' ? ` (${e.params.additionalProperty})` : '';
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`;
  };
  // Paths, property names and schema constraints only, never values: the final message of a BYO
  // job reaches the backend in plaintext.
  return { ok: false, errors: errors.map(describe).join('; ') };
}

function firstPrompt(request: SchemaTurnRequest): string {
  return [
    `Reasoning job ${request.jobId} (purpose: ${request.purpose}). ${PURPOSE_TASK[request.purpose]}`,
    'Answer with one JSON value that validates against the JSON Schema below. Reply with the JSON only:',
    'no prose, no Markdown code fence, no progress messages, and do not use tools.',
    '',
    'JSON Schema:',
    JSON.stringify(request.responseSchema, null, 2),
    '',
    'Request payload:',
    JSON.stringify(request.payload, null, 2),
  ].join('\n');
}

function retryPrompt(jobId: string, errors: string): string {
  return [
    `Your answer to reasoning job ${jobId} does not validate against its JSON Schema: ${errors}.`,
    'Reply again with the corrected JSON only: no prose, no Markdown code fence.',
  ].join('\n');
}

export async function runSchemaTurn(request: SchemaTurnRequest): Promise<JobOutcome> {
  let validate: ValidateFunction;
  try {
    validate = compileResponseSchema(request.responseSchema);
  } catch (err) {
    return { status: 'failed', error: { code: 'invalid_envelope', message: `response_schema is not a usable JSON Schema: ${(err as Error).message}` } };
  }
  let content = firstPrompt(request);
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      const turn = await request.core.runTurn({
        sessionKey: request.sessionKey,
        chatId: request.chatId,
        requestId: attempt === 0 ? request.jobId : `${request.jobId}:retry`,
        content,
        signal: request.signal,
        // Nobody is there to approve a tool for a backend job, and it should not need one.
        onPermissionRequest: (permission) => permission.answer('deny'),
      });
      // The final reply alone: a progress message before it would make the whole text non-JSON.
      text = turn.final ?? turn.text;
    } catch (err) {
      const message = err instanceof TurnError ? `${err.code}: ${err.message}` : (err as Error).message;
      return { status: 'failed', error: { code: 'turn_failed', message } };
    }
    const check = checkAnswer(text, validate);
    if (check.ok) return { status: 'completed', result: check.value };
    if (attempt === 1 || request.signal.aborted) {
      return { status: 'failed', error: { code: 'schema_mismatch', message: `answer does not match response_schema after a retry: ${check.errors}` } };
    }
    content = retryPrompt(request.jobId, check.errors);
  }
}
