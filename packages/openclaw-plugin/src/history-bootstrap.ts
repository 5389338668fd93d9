/**
 * OpenClaw sends the whole conversation each turn, while Claude keeps its own. When a session
 * starts fresh (no Claude transcript to resume) but the client knows earlier turns, those turns
 * are replayed once as a delimited transcript ahead of the new message. The transcript is bounded
 * by `maxChars`: the newest turns are kept, the oldest dropped first (see docs/sessions.md).
 */
export interface HistoryEntry {
  role: 'user' | 'assistant';
  content: string;
}

export const HISTORY_BEGIN = '<<<EARLIER CONVERSATION (replayed by the gateway; for context only)>>>';
export const HISTORY_END = '<<<END OF EARLIER CONVERSATION>>>';
/** Marks the start of a message whose beginning was cut to fit the bound. */
export const CUT_MARK = '[…] ';
/**
 * A message that does not fit whole keeps its end if at least this much of it fits: one long
 * answer then cannot push out all context, and a few stray characters are not worth sending.
 */
const MIN_CUT_CHARS = 80;

export interface Bootstrap {
  /** What Claude receives: the delimited transcript, a blank line, then the new message. */
  content: string;
  /** Earlier messages in the transcript, a cut one included. */
  replayed: number;
  /** Oldest messages left out to respect the bound. */
  omitted: number;
}

/**
 * The earlier turns as `[role]: text` lines, oldest first, their total length (line breaks
 * included) at most `maxChars`; the markers, the omission note and the new message come on top.
 */
export function bootstrapContent(history: HistoryEntry[], message: string, maxChars: number): Bootstrap {
  const lines: string[] = [];
  let used = 0;
  let next = history.length - 1;
  for (; next >= 0; next--) {
    const { role, content } = history[next]!;
    const room = maxChars - used - (lines.length > 0 ? 1 : 0);
    const line = `[${role}]: ${content}`;
    if (line.length <= room) {
      lines.unshift(line);
      used += line.length + (lines.length > 1 ? 1 : 0);
      continue;
    }
    const head = `[${role}]: ${CUT_MARK}`;
    if (room - head.length >= MIN_CUT_CHARS) {
      lines.unshift(head + content.slice(content.length - (room - head.length)));
      next--;
    }
    break;
  }
  const omitted = next + 1;
  if (lines.length === 0) return { content: message, replayed: 0, omitted };
  const note = omitted > 0 ? `(${omitted} older message${omitted === 1 ? '' : 's'} omitted)\n` : '';
  return {
    content: `${HISTORY_BEGIN}\n${note}${lines.join('\n')}\n${HISTORY_END}\n\n${message}`,
    replayed: lines.length,
    omitted,
  };
}
