/**
 * webchannel_v1: the WebSocket protocol between browser UIs and the gateway (shared/specs/
 * webchannel_v1.json). The gateway and the bundled UI both parse with these schemas, so what one
 * side sends is exactly what the other accepts. Nothing here touches Node or DOM APIs: the module
 * is bundled into the browser as is.
 */
// The namespace import (not `{ z }`) and no import of bridge.ts keep the browser bundle small:
// `{ z }` drags every zod locale into it (~450 KB instead of ~85 KB).
import * as z from 'zod';

export const WEBCHANNEL_VERSION = 1;

/**
 * Largest frame the protocol allows. The gateway answers a larger one with `frame_too_large`;
 * chat text is far below this, an E2E box adds a third for base64url.
 */
export const MAX_WEBCHANNEL_FRAME_BYTES = 1024 * 1024;

export const UI_TO_CORE_EVENTS = ['pairing_request', 'user_message', 'approval_response'] as const;
export const CORE_TO_UI_EVENTS = [
  'pairing_result',
  'assistant_chunk',
  'assistant_final',
  'tool_call',
  'tool_result',
  'approval_request',
] as const;

export const WebchannelEventTypeSchema = z.enum([...UI_TO_CORE_EVENTS, ...CORE_TO_UI_EVENTS, 'error']);
export type WebchannelEventType = z.infer<typeof WebchannelEventTypeSchema>;

const nonEmpty = z.string().min(1);

/**
 * The spec's validation is exactly: v === 1, a known type, a non-empty session_id. Unknown extra
 * fields are dropped rather than refused so newer peers stay compatible.
 */
export const EnvelopeSchema = z.object({
  v: z.literal(WEBCHANNEL_VERSION),
  type: WebchannelEventTypeSchema,
  session_id: nonEmpty,
  agent_id: z.string().optional(),
  request_id: z.string().optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
  access_token: z.string().optional(),
  auth_token: z.string().optional(),
});
export type Envelope = z.infer<typeof EnvelopeSchema>;

export const E2E_ALG = 'x25519-chacha20poly1305-v1';

/** An encrypted payload: base64url nonce and ciphertext (Poly1305 tag appended). */
export const E2eBoxSchema = z.object({
  alg: z.literal(E2E_ALG).optional(),
  nonce: nonEmpty,
  ciphertext: nonEmpty,
});
export type E2eBox = z.infer<typeof E2eBoxSchema>;

/** What an E2E box holds, in both directions (the gateway leaves out sender_id). */
export const E2eMessageSchema = z.object({ content: z.string(), sender_id: z.string().optional() });
export type E2eMessage = z.infer<typeof E2eMessageSchema>;

const contentOrBox = <S extends z.ZodObject>(schema: S) =>
  schema.refine((p) => typeof p.content === 'string' || p.e2e !== undefined, {
    message: 'payload needs content or e2e',
  });

export const PairingRequestPayloadSchema = z.object({
  pairing_code: nonEmpty,
  client_pub: nonEmpty.optional(),
  /** Alias of client_pub in the spec. */
  client_public_key: nonEmpty.optional(),
});

export const PairingResultPayloadSchema = z.object({
  ok: z.boolean(),
  client_id: z.string(),
  access_token: z.string(),
  token_type: z.string(),
  expires_in: z.number().int(),
  set_cookie: z.string().optional(),
  e2e_required: z.boolean(),
  e2e: z.object({ alg: z.string().optional(), agent_pub: z.string().optional() }).optional(),
});

export const UserMessagePayloadSchema = contentOrBox(
  z.object({
    content: z.string().optional(),
    sender_id: z.string().optional(),
    access_token: z.string().optional(),
    auth_token: z.string().optional(),
    e2e: E2eBoxSchema.optional(),
  }),
);

export const AssistantPayloadSchema = contentOrBox(
  z.object({ content: z.string().optional(), e2e: E2eBoxSchema.optional() }),
);

export const ToolCallPayloadSchema = z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()) });
export const ToolResultPayloadSchema = z.object({
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export const ApprovalRequestPayloadSchema = z.object({ action: z.string(), reason: z.string().optional() });
export const ApprovalResponsePayloadSchema = z.object({ approved: z.boolean(), reason: z.string().optional() });
export const ErrorPayloadSchema = z.object({ code: z.string().optional(), message: z.string() });

export const PAYLOAD_SCHEMAS = {
  pairing_request: PairingRequestPayloadSchema,
  pairing_result: PairingResultPayloadSchema,
  user_message: UserMessagePayloadSchema,
  assistant_chunk: AssistantPayloadSchema,
  assistant_final: AssistantPayloadSchema,
  tool_call: ToolCallPayloadSchema,
  tool_result: ToolResultPayloadSchema,
  approval_request: ApprovalRequestPayloadSchema,
  approval_response: ApprovalResponsePayloadSchema,
  error: ErrorPayloadSchema,
} satisfies Record<WebchannelEventType, z.ZodType>;

export type PayloadOf<T extends WebchannelEventType> = z.infer<(typeof PAYLOAD_SCHEMAS)[T]>;
/** What a sender writes (before defaults and refinements). */
export type PayloadInput<T extends WebchannelEventType> = z.input<(typeof PAYLOAD_SCHEMAS)[T]>;

/** Error codes the gateway sends; a turn failure adds the session core's TurnErrorCode. */
export type WebchannelErrorCode =
  | 'invalid_json'
  | 'invalid_envelope'
  | 'invalid_payload'
  | 'unsupported_event'
  | 'frame_too_large'
  | 'unauthorized'
  | 'pairing_failed'
  | 'pairing_locked'
  | 'pairing_unavailable'
  | 'e2e_required'
  | 'e2e_unavailable'
  | 'e2e_failed'
  | 'unknown_request'
  | 'internal';

/** Used as session_id of an error about a frame that had none, so the reply is still a valid envelope. */
export const UNKNOWN_SESSION_ID = 'unknown';

export type EnvelopeParse =
  | { ok: true; envelope: Envelope }
  | { ok: false; code: 'invalid_json' | 'invalid_envelope'; message: string; sessionId: string; requestId?: string };

/** Parses one text frame; never throws. */
export function parseEnvelope(raw: string): EnvelopeParse {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'frame is not JSON', sessionId: UNKNOWN_SESSION_ID };
  }
  const result = EnvelopeSchema.safeParse(json);
  if (result.success) return { ok: true, envelope: result.data };
  // Echo what identifies the request where the frame has it, so the sender can correlate the error.
  const loose = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : {};
  const sessionId = typeof loose.session_id === 'string' && loose.session_id ? loose.session_id : UNKNOWN_SESSION_ID;
  const requestId = typeof loose.request_id === 'string' ? loose.request_id : undefined;
  return { ok: false, code: 'invalid_envelope', message: describeIssues(result.error), sessionId, requestId };
}

export type PayloadParse<T extends WebchannelEventType> =
  | { ok: true; payload: PayloadOf<T> }
  | { ok: false; message: string };

/** Validates an envelope's payload against its event's schema; a missing payload counts as `{}`. */
export function parsePayload<T extends WebchannelEventType>(type: T, payload: unknown): PayloadParse<T> {
  const result = PAYLOAD_SCHEMAS[type].safeParse(payload ?? {});
  if (result.success) return { ok: true, payload: result.data as PayloadOf<T> };
  return { ok: false, message: `${type}: ${describeIssues(result.error)}` };
}

export interface EnvelopeExtras {
  agent_id?: string;
  request_id?: string;
  access_token?: string;
  auth_token?: string;
}

/** Builds an envelope, leaving out extras that are undefined so the JSON stays minimal. */
export function makeEnvelope<T extends WebchannelEventType>(
  type: T,
  sessionId: string,
  payload: PayloadInput<T>,
  extras: EnvelopeExtras = {},
): Envelope {
  const defined = Object.fromEntries(Object.entries(extras).filter(([, v]) => v !== undefined));
  return { v: WEBCHANNEL_VERSION, type, session_id: sessionId, ...defined, payload: payload as Record<string, unknown> };
}

/** Same one-line form as bridge.ts's describeZodError, which the browser bundle cannot import cheaply. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
