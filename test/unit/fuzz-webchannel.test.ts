/**
 * Property tests of the webchannel_v1 parsers: any text frame becomes an envelope or a typed
 * error (invalid_json / invalid_envelope) that still names a session to answer on; any payload is
 * accepted or refused with a message; every envelope makeEnvelope builds parses back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CORE_TO_UI_EVENTS,
  UI_TO_CORE_EVENTS,
  UNKNOWN_SESSION_ID,
  WebchannelEventTypeSchema,
  makeEnvelope,
  parseEnvelope,
  parsePayload,
  type WebchannelEventType,
} from '@synthesis-agent/protocol';

const EVENT_TYPES = WebchannelEventTypeSchema.options as readonly WebchannelEventType[];

const envelope = fc.record(
  {
    v: fc.constant(1),
    type: fc.constantFrom(...EVENT_TYPES),
    session_id: fc.string({ minLength: 1 }),
    agent_id: fc.string(),
    request_id: fc.string(),
    payload: fc.dictionary(fc.string(), fc.jsonValue()),
    access_token: fc.string(),
  },
  { requiredKeys: ['v', 'type', 'session_id'] },
);

const mutatedEnvelope = fc
  .tuple(envelope, fc.constantFrom('v', 'type', 'session_id', 'request_id', 'payload'), fc.jsonValue(), fc.boolean())
  .map(([env, key, value, drop]) => {
    const copy: Record<string, unknown> = { ...env };
    if (drop) delete copy[key];
    else copy[key] = value;
    return copy;
  });

const rawFrame = fc.oneof(
  envelope.map((e) => JSON.stringify(e)),
  mutatedEnvelope.map((e) => JSON.stringify(e)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
);

describe('parseEnvelope', () => {
  it('never throws: an envelope, or a typed error that still names a session', () => {
    fc.assert(
      fc.property(rawFrame, (raw) => {
        const parsed = parseEnvelope(raw);
        if (parsed.ok) {
          expect(parsed.envelope.v).toBe(1);
          expect(EVENT_TYPES).toContain(parsed.envelope.type);
          expect(parsed.envelope.session_id).not.toBe('');
          return;
        }
        expect(['invalid_json', 'invalid_envelope']).toContain(parsed.code);
        expect(parsed.message).toMatch(/\S/);
        expect(parsed.sessionId).not.toBe('');
        // The error is echoed as an envelope of its own; it must parse on the other side.
        const reply = makeEnvelope('error', parsed.sessionId, { code: parsed.code, message: parsed.message }, { request_id: parsed.requestId });
        expect(parseEnvelope(JSON.stringify(reply)).ok).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('echoes the session and request id of a frame it refuses, where the frame had them', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (sessionId, requestId) => {
        const parsed = parseEnvelope(JSON.stringify({ v: 2, type: 'user_message', session_id: sessionId, request_id: requestId }));
        expect(parsed).toMatchObject({ ok: false, code: 'invalid_envelope', sessionId, requestId });
      }),
    );
    expect(parseEnvelope('not json')).toMatchObject({ ok: false, code: 'invalid_json', sessionId: UNKNOWN_SESSION_ID });
  });
});

describe('parsePayload', () => {
  it('never throws on any payload of any event type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EVENT_TYPES), fc.oneof(fc.jsonValue(), fc.dictionary(fc.string(), fc.jsonValue())), (type, payload) => {
        const parsed = parsePayload(type, payload);
        if (!parsed.ok) expect(parsed.message.startsWith(`${type}: `)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('accepts what a well-behaved sender builds, in both directions', () => {
    const userMessage = fc.record({ content: fc.string(), sender_id: fc.string() }, { requiredKeys: ['content'] });
    const assistant = fc.record({ content: fc.string() });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), userMessage, assistant, (sessionId, user, reply) => {
        for (const [type, payload] of [
          ['user_message', user],
          ['assistant_chunk', reply],
          ['assistant_final', reply],
        ] as const) {
          const parsed = parseEnvelope(JSON.stringify(makeEnvelope(type, sessionId, payload)));
          expect(parsed.ok).toBe(true);
          if (parsed.ok) expect(parsePayload(parsed.envelope.type, parsed.envelope.payload)).toEqual({ ok: true, payload });
        }
      }),
    );
    expect([...UI_TO_CORE_EVENTS, ...CORE_TO_UI_EVENTS, 'error']).toEqual([...EVENT_TYPES]);
  });
});
