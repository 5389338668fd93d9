import { describe, expect, it } from 'vitest';
import { checkAnswer, compileResponseSchema, runSchemaTurn } from '../../packages/openclaw-plugin/src/reasoning/schema-turn.js';
import { TurnError, type RelayedPermission, type SessionCore, type TurnRequest } from '../../packages/openclaw-plugin/src/turn.js';

const SCHEMA = { type: 'object', required: ['summary'], properties: { summary: { type: 'string' } }, additionalProperties: false };

/** Answers turns from a list; an Error in the list is thrown instead. */
function scriptedCore(answers: (string | Error)[]): SessionCore & { requests: TurnRequest[] } {
  const requests: TurnRequest[] = [];
  return {
    requests,
    async runTurn(request) {
      requests.push(request);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no scripted answer left');
      if (answer instanceof Error) throw answer;
      return { text: answer, chunks: [answer] };
    },
    sessions: () => [],
  };
}

function request(core: SessionCore, signal = new AbortController().signal) {
  return {
    core,
    sessionKey: 'reasoning::int-1',
    chatId: 'int-1',
    jobId: 'job-1',
    purpose: 'session_summary' as const,
    payload: { transcript: 'we met' },
    responseSchema: SCHEMA,
    signal,
  };
}

describe('checkAnswer', () => {
  const validate = compileResponseSchema(SCHEMA);
  it('accepts plain JSON and JSON in a single code fence', () => {
    expect(checkAnswer(' {"summary":"a"} ', validate)).toEqual({ ok: true, value: { summary: 'a' } });
    expect(checkAnswer('```json\n{"summary":"b"}\n```', validate)).toEqual({ ok: true, value: { summary: 'b' } });
  });

  it('reports schema errors by path, and a non-JSON answer without quoting it', () => {
    expect(checkAnswer('{"summary":1,"x":2}', validate)).toEqual({
      ok: false,
      errors: '/ must NOT have additional properties (x); /summary must be string',
    });
    const check = checkAnswer('echo: private words', validate);
    expect(check).toEqual({ ok: false, errors: 'the answer is not JSON' });
  });

  it('picks the JSON Schema draft from $schema', () => {
    const tuple = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'number' }], items: false };
    const validate2020 = compileResponseSchema(tuple);
    expect(validate2020([1])).toBe(true);
    expect(validate2020([1, 2])).toBe(false);
    // Unknown keywords and formats do not make a usable schema fail.
    expect(compileResponseSchema({ type: 'string', format: 'date-time', 'x-ui': 1 })('not a date')).toBe(true);
  });
});

describe('runSchemaTurn', () => {
  it('runs one turn on the session with a prompt carrying the schema and payload, denying tools', async () => {
    const core = scriptedCore(['{"summary":"we met"}']);
    const permissions: string[] = [];
    core.runTurn = ((original) => async (req: TurnRequest) => {
      req.onPermissionRequest?.({ answer: (b: string) => permissions.push(b) } as unknown as RelayedPermission);
      return original(req);
    })(core.runTurn);
    await expect(runSchemaTurn(request(core))).resolves.toEqual({ status: 'completed', result: { summary: 'we met' } });
    expect(core.requests).toHaveLength(1);
    const [turn] = core.requests;
    expect(turn).toMatchObject({ sessionKey: 'reasoning::int-1', chatId: 'int-1', requestId: 'job-1' });
    expect(turn!.content).toContain('purpose: session_summary');
    expect(turn!.content).toContain('"required": [\n    "summary"\n  ]');
    expect(turn!.content).toContain('"transcript": "we met"');
    expect(permissions).toEqual(['deny']);
  });

  it('reads the final reply, not the progress messages before it', async () => {
    const core = scriptedCore([]);
    core.runTurn = async (req) => {
      core.requests.push(req);
      return { text: 'Working on it…{"summary":"s"}', chunks: ['Working on it…'], final: '{"summary":"s"}' };
    };
    await expect(runSchemaTurn(request(core))).resolves.toEqual({ status: 'completed', result: { summary: 's' } });
  });

  it('retries once with the validation errors, then succeeds', async () => {
    const core = scriptedCore(['{"summary":42}', '{"summary":"fixed"}']);
    await expect(runSchemaTurn(request(core))).resolves.toEqual({ status: 'completed', result: { summary: 'fixed' } });
    expect(core.requests.map((r) => r.requestId)).toEqual(['job-1', 'job-1:retry']);
    expect(core.requests[1]!.content).toContain('/summary must be string');
  });

  it('fails with schema_mismatch after the retry fails too', async () => {
    const core = scriptedCore(['nope', '{"summary":false}']);
    await expect(runSchemaTurn(request(core))).resolves.toEqual({
      status: 'failed',
      error: { code: 'schema_mismatch', message: 'answer does not match response_schema after a retry: /summary must be string' },
    });
    expect(core.requests).toHaveLength(2);
  });

  it('starts no retry once the job is abandoned', async () => {
    const abandon = new AbortController();
    const core = scriptedCore(['nope']);
    const original = core.runTurn.bind(core);
    core.runTurn = async (req) => {
      const result = await original(req);
      abandon.abort();
      return result;
    };
    await expect(runSchemaTurn(request(core, abandon.signal))).resolves.toMatchObject({ status: 'failed', error: { code: 'schema_mismatch' } });
    expect(core.requests).toHaveLength(1);
  });

  it('reports a turn error and an unusable schema as failures', async () => {
    const core = scriptedCore([new TurnError('claude_exited', 'Claude exited with code 1')]);
    await expect(runSchemaTurn(request(core))).resolves.toEqual({
      status: 'failed',
      error: { code: 'turn_failed', message: 'claude_exited: Claude exited with code 1' },
    });
    const bad = await runSchemaTurn({ ...request(scriptedCore([])), responseSchema: { type: 'no-such-type' } });
    expect(bad).toMatchObject({ status: 'failed', error: { code: 'invalid_envelope', message: expect.stringContaining('response_schema') } });
  });
});
