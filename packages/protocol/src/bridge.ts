/**
 * The WebSocket bridge between the gateway and the claude-plugin running inside each Claude Code
 * process. Every message shape is defined here once; both sides parse with these schemas, so a
 * frame that one side can send is exactly a frame the other side accepts.
 */
import * as z from 'zod';

export { MAX_BRIDGE_FRAME_BYTES, TURN_END_PATH } from './constants.js';

const nonEmpty = z.string().min(1);

export const HelloSchema = z.strictObject({
  type: z.literal('hello'),
  openclaw_session: nonEmpty,
  claude_session: nonEmpty,
  pid: z.number().int().positive(),
  /** Per-process secret the gateway put in the plugin's env; proves the gateway spawned it. */
  token: nonEmpty.optional(),
});

export const HelloAckSchema = z.strictObject({ type: z.literal('hello_ack') });

/** Meta values must be strings: Claude Code rejects a whole channel notification otherwise. */
export const InboundMetaSchema = z.strictObject({
  chat_id: z.string(),
  message_id: z.string(),
  ts: z.string(),
});

export const InboundSchema = z.strictObject({
  type: z.literal('inbound'),
  content: z.string(),
  meta: InboundMetaSchema,
});

export const ReplySchema = z.strictObject({
  type: z.literal('reply'),
  content: z.string(),
  final: z.boolean().default(true),
});

/**
 * Sent by the plugin once Claude Code has listed its tools. A channel message delivered before
 * that can reach the model before the reply tool exists (claude-code-facts.md), so the gateway
 * holds the first inbound until it sees this.
 */
export const ReadySchema = z.strictObject({ type: z.literal('ready') });

export const PingSchema = z.strictObject({ type: z.literal('ping') });
export const PongSchema = z.strictObject({ type: z.literal('pong') });

export const BridgeErrorCodeSchema = z.enum([
  'invalid_json',
  'invalid_message',
  'unexpected_message',
  'unknown_session',
  'unauthorized',
  'not_connected',
  'internal',
]);

export const BridgeErrorSchema = z.strictObject({
  type: z.literal('error'),
  code: BridgeErrorCodeSchema,
  message: z.string(),
});

/** Claude Code asks the channel whether a tool may run (permission relay). */
export const PermissionRequestSchema = z.strictObject({
  type: z.literal('permission_request'),
  request_id: nonEmpty,
  tool_name: z.string(),
  description: z.string(),
  input_preview: z.string(),
});

/** The gateway's verdict on a permission request, forwarded to Claude Code by the plugin. */
export const PermissionVerdictSchema = z.strictObject({
  type: z.literal('permission'),
  request_id: nonEmpty,
  behavior: z.enum(['allow', 'deny']),
});

/**
 * POSTed to `http://127.0.0.1:<bridge-port>/turn-end` by the Stop hook the gateway installs in
 * every Claude it launches: Claude Code has finished its turn. Until then a new channel message
 * would reach the model as a side note of the running turn rather than as a turn
 * (claude-code-facts.md). Plain HTTP keeps the hook, which runs once per turn, free of a
 * WebSocket client.
 */
export const TurnEndSchema = z.strictObject({
  type: z.literal('turn_end'),
  openclaw_session: nonEmpty,
  token: nonEmpty.optional(),
});

export const PluginToGatewaySchema = z.discriminatedUnion('type', [
  HelloSchema,
  ReadySchema,
  ReplySchema,
  PongSchema,
  BridgeErrorSchema,
  PermissionRequestSchema,
]);

export const GatewayToPluginSchema = z.discriminatedUnion('type', [
  HelloAckSchema,
  InboundSchema,
  PingSchema,
  BridgeErrorSchema,
  PermissionVerdictSchema,
]);

export type Hello = z.infer<typeof HelloSchema>;
export type TurnEnd = z.infer<typeof TurnEndSchema>;
export type Inbound = z.infer<typeof InboundSchema>;
export type InboundMeta = z.infer<typeof InboundMetaSchema>;
export type Reply = z.infer<typeof ReplySchema>;
export type BridgeErrorCode = z.infer<typeof BridgeErrorCodeSchema>;
export type BridgeError = z.infer<typeof BridgeErrorSchema>;
export type PermissionRequest = z.infer<typeof PermissionRequestSchema>;
export type PermissionVerdict = z.infer<typeof PermissionVerdictSchema>;
export type PluginToGateway = z.infer<typeof PluginToGatewaySchema>;
export type GatewayToPlugin = z.infer<typeof GatewayToPluginSchema>;
/** What a sender writes: `final` may be left out and defaults to true on the receiving side. */
export type PluginToGatewayInput = z.input<typeof PluginToGatewaySchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: BridgeError };

/** Parses one text frame; never throws, so a bad peer can only ever earn a typed `error`. */
export function parseFrame<S extends z.ZodType>(schema: S, raw: string): ParseResult<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    return { ok: false, error: bridgeError('invalid_json', `frame is not JSON: ${(err as Error).message}`) };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: bridgeError('invalid_message', describeZodError(result.error)) };
}

export function bridgeError(code: BridgeErrorCode, message: string): BridgeError {
  return { type: 'error', code, message };
}

/** One line a user can act on: "messages.0.content: expected string, received number". */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
