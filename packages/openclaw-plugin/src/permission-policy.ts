/**
 * Claude Code's permission requests: which are answered by policy, how a relayed one is shown to
 * a chat user, and how a chat user's answer (`yes abcde` / `no abcde`) is recognised.
 */
import type { PermissionRequest } from '@synthesis-agent/protocol';

export type PermissionMode = 'relay' | 'deny' | 'allow-listed';
export type Behavior = 'allow' | 'deny';

/** `Bash`, `mcp__github__*`, `*`: `*` matches any run of characters, the rest literally. */
export function toolPatternMatches(pattern: string, toolName: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(toolName);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The verdict policy gives without asking anyone, or undefined when the request must be relayed. */
export function policyVerdict(mode: PermissionMode, allow: string[], toolName: string): Behavior | undefined {
  if (mode === 'relay') return undefined;
  if (mode === 'allow-listed' && allow.some((p) => toolPatternMatches(p, toolName))) return 'allow';
  return 'deny';
}

/**
 * A chat user's answer: the first line is exactly `yes <id>` or `no <id>` (ids are five lowercase
 * letters). Only the first line counts because OpenClaw appends its own context after the user's
 * text.
 */
export function parsePermissionAnswer(content: string): { requestId: string; behavior: Behavior } | undefined {
  const match = /^\s*(yes|y|no|n)\s+([a-z]{5})\s*$/i.exec(content.split('\n', 1)[0] ?? '');
  if (!match) return undefined;
  return { requestId: match[2]!.toLowerCase(), behavior: /^y/i.test(match[1]!) ? 'allow' : 'deny' };
}

export function relayText(request: Omit<PermissionRequest, 'type'>, ttlMs: number): string {
  const minutes = Math.max(1, Math.round(ttlMs / 60_000));
  return [
    `Claude wants to use the tool **${request.tool_name}** and needs your permission.`,
    '',
    request.description,
    ...(request.input_preview ? ['', '```', request.input_preview, '```'] : []),
    '',
    `Reply \`yes ${request.request_id}\` to allow it or \`no ${request.request_id}\` to deny it (within ${minutes} min).`,
  ].join('\n');
}

export function unknownAnswerText(requestId: string): string {
  return `There is no pending permission request \`${requestId}\`: it was already answered, it expired, or the session restarted. Nothing was sent to Claude.`;
}
