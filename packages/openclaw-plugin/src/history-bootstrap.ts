/**
 * OpenClaw sends the whole conversation each turn, while Claude keeps its own. When a session
 * starts fresh (no Claude transcript to resume) but the client knows earlier turns, those turns
 * are replayed once as a delimited transcript ahead of the new message, newest kept when the
 * transcript must be cut to `maxChars`.
 */
export interface HistoryEntry {
  role: 'user' | 'assistant';
  content: string;
}

export const HISTORY_BEGIN = '<<<EARLIER CONVERSATION (replayed by the gateway; for context only)>>>';
export const HISTORY_END = '<<<END OF EARLIER CONVERSATION>>>';

export function bootstrapContent(history: HistoryEntry[], message: string, maxChars: number): string {
  const lines: string[] = [];
  let used = 0;
  let dropped = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i]!;
    const line = `[${entry.role}]: ${entry.content}`;
    if (used + line.length + 1 > maxChars) {
      dropped = i + 1;
      break;
    }
    lines.unshift(line);
    used += line.length + 1;
  }
  if (lines.length === 0) return message;
  const note = dropped > 0 ? `(${dropped} older message${dropped === 1 ? '' : 's'} omitted)\n` : '';
  return `${HISTORY_BEGIN}\n${note}${lines.join('\n')}\n${HISTORY_END}\n\n${message}`;
}
