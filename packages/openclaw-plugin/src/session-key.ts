/**
 * Which session a chat request belongs to: `${agentId}::${chatId}`, first source wins.
 *
 * Real OpenClaw sends none of the X-Openclaw headers on its own (openclaw-facts.md); they come
 * from our OpenClaw plugin or from static provider headers. Without them the affinity headers,
 * `prompt_cache_key`, `user`, and finally OpenClaw's `Runtime:` line identify the conversation.
 */
export interface SessionKeySources {
  header(name: string): string | undefined;
  body: { user?: string | undefined; prompt_cache_key?: string | undefined };
  /** Text of the first user message, where OpenClaw writes its `Runtime:` line. */
  firstUserText: string;
}

export interface SessionIdentity {
  agentId: string;
  chatId: string;
  key: string;
}

/** `Runtime: agent=main | session=agent:main:main | sessionId=<uuid> | …` → {agent, session, sessionId, …}. */
export function parseRuntimeLine(text: string): Record<string, string> {
  const line = /^Runtime:(.*)$/m.exec(text)?.[1];
  if (!line) return {};
  const fields: Record<string, string> = {};
  for (const part of line.split('|')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return fields;
}

function firstOf(...values: (string | undefined)[]): string | undefined {
  return values.map((v) => v?.trim()).find((v) => v);
}

export function resolveSessionIdentity(src: SessionKeySources): SessionIdentity {
  const runtime = parseRuntimeLine(src.firstUserText);
  const agentId = firstOf(src.header('x-openclaw-agent-id'), runtime.agent) ?? 'default';
  const chatId =
    firstOf(
      src.header('x-openclaw-chat-id'),
      src.header('x-session-affinity'),
      src.header('session_id'),
      src.body.prompt_cache_key,
      src.body.user,
      runtime.sessionId,
    ) ?? 'default';
  return { agentId, chatId, key: `${agentId}::${chatId}` };
}
