/**
 * Claude Code's permission requests: which are answered by policy, how a relayed one is shown to
 * a chat user, and how a chat user's answer (`yes abcde` / `no abcde`) is recognised.
 */
import type { PermissionRequest } from '@synthesis-agent/protocol';

export type PermissionMode = 'relay' | 'deny' | 'allow-listed';
export type Behavior = 'allow' | 'deny';
/** Why a request id can no longer be answered; a late answer is told which. */
export type PermissionOutcome = 'answered' | 'expired' | 'abandoned';
export type RelayedRequest = Omit<PermissionRequest, 'type'>;

/** `Bash`, `mcp__github__*`, `*`: `*` matches any run of characters, the rest literally. */
export function toolPatternMatches(pattern: string, toolName: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(toolName);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The verdict policy gives without asking anyone, or undefined when the request must be relayed.
 * The allow-list also applies in relay mode (listed tools run without a question), so the flag
 * never silently does nothing there; deny mode is a kill switch that ignores it.
 */
export function policyVerdict(mode: PermissionMode, allow: string[], toolName: string): Behavior | undefined {
  if (mode === 'deny') return 'deny';
  if (allow.some((p) => toolPatternMatches(p, toolName))) return 'allow';
  return mode === 'relay' ? undefined : 'deny';
}

/**
 * A chat user's answer: the first line is exactly `yes <id>` or `no <id>` (ids are five letters,
 * any case). Only the first line counts because OpenClaw appends its own context after the user's
 * text.
 */
export function parsePermissionAnswer(content: string): { requestId: string; behavior: Behavior } | undefined {
  const match = /^\s*(yes|y|no|n)\s+([a-z]{5})\s*$/i.exec(content.split('\n', 1)[0] ?? '');
  if (!match) return undefined;
  return { requestId: match[2]!.toLowerCase(), behavior: /^y/i.test(match[1]!) ? 'allow' : 'deny' };
}

/** Whether an assistant message is the question relayText asked for this id. */
export function askedFor(assistantText: string, requestId: string): boolean {
  return assistantText.includes(`\`yes ${requestId}\``);
}

/** The question a chat user sees; `remainingMs` is how long the answer is still accepted. */
export function relayText(request: RelayedRequest, remainingMs: number): string {
  const preview = request.input_preview;
  // A preview holding a code fence (an Edit of a markdown file) must not close ours early.
  const fence = '`'.repeat(Math.max(3, ...[...preview.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return [
    `Claude wants to use the tool **${request.tool_name}** and needs your permission.`,
    '',
    request.description,
    ...(preview ? ['', fence, preview, fence] : []),
    '',
    `Reply \`yes ${request.request_id}\` to allow it or \`no ${request.request_id}\` to deny it (within ${duration(remainingMs)}; after that it is denied).`,
  ].join('\n');
}

/** Answer to a message that is not the answer while Claude's turn waits for one. */
export function stillWaitingText(request: RelayedRequest, remainingMs: number): string {
  return `Claude is still waiting for your answer to a permission request, so your message was not sent to Claude.\n\n${relayText(request, remainingMs)}`;
}

export function unanswerableText(requestId: string, outcome: PermissionOutcome | undefined, waitingFor: string[]): string {
  const id = `\`${requestId}\``;
  const why = {
    answered: `Permission request ${id} was already answered; this answer changes nothing.`,
    expired: `Permission request ${id} expired without an answer and was denied, so Claude went on without that tool. Ask again if you still want it done.`,
    abandoned: `Permission request ${id} can no longer be answered: the Claude turn that asked for it is over (Claude exited or was restarted, or the turn ended without it). Nothing was sent to Claude; ask again if you still want it done.`,
    unknown: `There is no pending permission request ${id} (it was answered, it expired, or the gateway restarted). Nothing was sent to Claude.`,
  }[outcome ?? 'unknown'];
  const waiting = waitingFor.map((w) => `\`${w}\``).join(', ');
  return waiting ? `${why} Claude is waiting for an answer to ${waiting}.` : why;
}

function duration(ms: number): string {
  return ms < 60_000 ? `${Math.max(1, Math.round(ms / 1000))} s` : `${Math.round(ms / 60_000)} min`;
}
