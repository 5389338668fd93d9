/**
 * The MCP face Claude Code sees: a `claude/channel` server with one `reply` tool. It knows nothing
 * about WebSockets; main wires its hooks to the bridge.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import {
  PermissionRequestSchema,
  describeZodError,
  type Inbound,
  type PermissionRequest,
  type PermissionVerdict,
} from '@synthesis-agent/protocol/bridge';
import * as z from 'zod';
import type { Logger } from './logger.js';

export const SERVER_NAME = 'synthesis';
export const CHANNEL_METHOD = 'notifications/claude/channel';
export const PERMISSION_REQUEST_METHOD = 'notifications/claude/channel/permission_request';
export const PERMISSION_VERDICT_METHOD = 'notifications/claude/channel/permission';

const INSTRUCTIONS = [
  'Messages from the SynthesisAgent gateway arrive as',
  '<channel source="..." chat_id="..." message_id="..." ts="...">text</channel>,',
  "where source is this server's name. Each one is a message from a person who cannot see your terminal",
  'output: the sender sees ONLY what you send with the reply tool, so every answer must be sent with reply,',
  'even a short one or a refusal. For long work you may send progress with reply final:false (it is shown',
  'ahead of the answer, so do not repeat it), then finish with exactly one reply with final:true (the default).',
].join(' ');

const REPLY_TOOL = {
  name: 'reply',
  description:
    'Send text to the person who sent the current channel message. They see nothing else you write. ' +
    'Use final:false for progress updates and one final:true reply (the default) to finish the answer.',
  inputSchema: {
    type: 'object' as const,
    properties: {
      text: { type: 'string', description: 'The message text (markdown allowed).' },
      final: {
        type: 'boolean',
        default: true,
        description: 'false for a progress update; true (default) for the reply that completes the answer.',
      },
    },
    required: ['text'],
  },
};

const ReplyArgsSchema = z.object({ text: z.string(), final: z.boolean().default(true) });

// Claude Code may add fields (e.g. _meta); the bridge frame must carry only the known ones.
const PermissionRequestParamsSchema = z.object(PermissionRequestSchema.omit({ type: true }).shape);

const PermissionRequestNotificationSchema = z.object({
  method: z.literal(PERMISSION_REQUEST_METHOD),
  params: z.unknown(),
});

export interface ChannelHooks {
  /** Delivers a reply to the gateway; rejects when it could not be delivered. */
  reply(text: string, final: boolean): Promise<void>;
  permissionRequest(request: PermissionRequest): void;
  /** Claude Code listed the tools, so the reply tool is known to the model from now on. */
  toolsListed(): void;
}

export class ChannelServer {
  private readonly server: Server;

  constructor(
    private readonly hooks: ChannelHooks,
    private readonly logger: Logger,
    version: string,
  ) {
    this.server = new Server(
      { name: SERVER_NAME, version },
      {
        capabilities: { tools: {}, experimental: { 'claude/channel': {}, 'claude/channel/permission': {} } },
        instructions: INSTRUCTIONS,
      },
    );
    this.server.onerror = (err) => logger.warn({ err: err.message }, 'MCP protocol error');
    this.server.setRequestHandler(ListToolsRequestSchema, () => {
      // The response is written in this same tick, so the settle delay counts from the answer.
      hooks.toolsListed();
      return { tools: [REPLY_TOOL] };
    });
    this.server.setRequestHandler(CallToolRequestSchema, (request) =>
      this.callTool(request.params.name, request.params.arguments),
    );
    this.server.setNotificationHandler(PermissionRequestNotificationSchema, (notification) =>
      this.onPermissionRequest(notification.params),
    );
  }

  connect(transport: Transport): Promise<void> {
    return this.server.connect(transport);
  }

  deliverInbound(inbound: Inbound): Promise<void> {
    const { chat_id, message_id, ts } = inbound.meta;
    return this.server.notification({
      method: CHANNEL_METHOD,
      params: { content: inbound.content, meta: { chat_id, message_id, ts } },
    });
  }

  deliverPermission(verdict: PermissionVerdict): Promise<void> {
    return this.server.notification({
      method: PERMISSION_VERDICT_METHOD,
      params: { request_id: verdict.request_id, behavior: verdict.behavior },
    });
  }

  private async callTool(name: string, args: unknown): Promise<CallToolResult> {
    if (name !== REPLY_TOOL.name) return toolError(`Unknown tool "${name}"; this server only has "reply".`);
    const parsed = ReplyArgsSchema.safeParse(args ?? {});
    if (!parsed.success) return toolError(`Invalid arguments for reply: ${describeZodError(parsed.error)}.`);
    const { text, final } = parsed.data;
    try {
      await this.hooks.reply(text, final);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, final }, 'reply not delivered');
      return toolError(
        `The reply was NOT delivered: ${(err as Error).message}. The sender has not seen this text; ` +
          'try again shortly.',
      );
    }
    return { content: [{ type: 'text', text: final ? 'sent' : 'sent (progress)' }] };
  }

  private onPermissionRequest(params: unknown): void {
    const parsed = PermissionRequestParamsSchema.safeParse(params);
    if (!parsed.success) {
      this.logger.warn({ reason: describeZodError(parsed.error) }, 'ignoring malformed permission_request');
      return;
    }
    this.hooks.permissionRequest({ type: 'permission_request', ...parsed.data });
  }
}

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text }] };
}
