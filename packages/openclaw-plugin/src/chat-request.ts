/**
 * The OpenAI chat-completion request as this gateway accepts it, and how it becomes a turn:
 * which text goes to Claude, which earlier messages are history, which is the system prompt.
 */
import { z } from 'zod';

const TextPart = z.looseObject({ type: z.literal('text'), text: z.string() });

const Content = z.union(
  [z.string(), z.array(TextPart, { error: 'content parts must be {type:"text", text}; images, audio and files are not supported' })],
  { error: 'content must be a string or an array of text parts' },
);

const Message = z.discriminatedUnion(
  'role',
  [
    z.looseObject({ role: z.enum(['system', 'developer']), content: Content }),
    z.looseObject({ role: z.literal('user'), content: Content }),
    // Assistant tool-call turns carry `content: null`.
    z.looseObject({ role: z.literal('assistant'), content: Content.nullish() }),
    z.looseObject({ role: z.literal('tool'), content: Content, tool_call_id: z.string().optional() }),
  ],
  { error: 'role must be one of system, developer, user, assistant, tool' },
);

export const ChatRequestSchema = z
  .looseObject({
    model: z.string({ error: 'model is required' }).min(1, 'model must not be empty'),
    messages: z.array(Message, { error: 'messages must be an array' }).min(1, 'messages must not be empty'),
    stream: z.boolean().optional(),
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
    user: z.string().optional(),
    prompt_cache_key: z.string().optional(),
    tools: z.array(z.unknown()).optional(),
    tool_choice: z.unknown().optional(),
  })
  .refine((body) => body.messages.some((m) => m.role === 'user'), {
    message: 'messages must contain at least one user message',
    path: ['messages'],
  });

export type ChatRequest = z.output<typeof ChatRequestSchema>;
type ChatMessage = ChatRequest['messages'][number];

export function contentText(content: ChatMessage['content']): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text).join('');
}

export interface TurnText {
  /** Every user message after the last assistant message, joined in order. */
  content: string;
  /** Earlier user/assistant exchanges (tool traffic left out), oldest first. */
  history: { role: 'user' | 'assistant'; content: string }[];
  /** System and developer messages joined, if any. */
  systemPrompt?: string;
}

/**
 * OpenClaw appends an internal-context user message after the real one, so the turn is every
 * user message since the last assistant message, not just the last message.
 */
export function turnText(messages: ChatMessage[]): TurnText {
  let lastAssistant = -1;
  messages.forEach((m, i) => {
    if (m.role === 'assistant') lastAssistant = i;
  });
  const content = messages
    .slice(lastAssistant + 1)
    .filter((m) => m.role === 'user')
    .map((m) => contentText(m.content))
    .join('\n\n');
  const history = messages
    .slice(0, lastAssistant + 1)
    .filter((m): m is ChatMessage & { role: 'user' | 'assistant' } => m.role === 'user' || m.role === 'assistant')
    .map((m) => ({ role: m.role, content: contentText(m.content) }))
    .filter((m) => m.content !== '');
  const system = messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => contentText(m.content))
    .join('\n\n');
  return system ? { content, history, systemPrompt: system } : { content, history };
}
