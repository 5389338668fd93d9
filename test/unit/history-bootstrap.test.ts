/**
 * History bootstrap: the transcript a fresh Claude session gets of the turns the client already
 * had, delimited, bounded, newest kept.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bootstrapContent,
  CUT_MARK,
  HISTORY_BEGIN,
  HISTORY_END,
  type HistoryEntry,
} from '../../packages/openclaw-plugin/src/history-bootstrap.js';

const u = (content: string): HistoryEntry => ({ role: 'user', content });
const a = (content: string): HistoryEntry => ({ role: 'assistant', content });

/** The lines between the markers, without the omission note. */
function transcriptLines(content: string): string {
  const inner = content.slice(content.indexOf(HISTORY_BEGIN) + HISTORY_BEGIN.length + 1, content.indexOf(`\n${HISTORY_END}`));
  return inner.replace(/^\(\d+ older messages? omitted\)\n/, '');
}

describe('bootstrapContent', () => {
  it('puts the earlier turns, oldest first, between markers ahead of the new message', () => {
    const result = bootstrapContent([u('hi'), a('hello!'), u('two\nlines')], 'newest', 1000);
    expect(result.content).toBe(
      [HISTORY_BEGIN, '[user]: hi', '[assistant]: hello!', '[user]: two\nlines', HISTORY_END, '', 'newest'].join('\n'),
    );
    expect(result).toMatchObject({ replayed: 3, omitted: 0 });
  });

  it('drops the oldest messages first and says how many', () => {
    const history = [u('first question'), a('first answer'), u('second question'), a('second answer')];
    // Room for the last two lines and the line break between them, not for a third.
    const bound = '[user]: second question\n[assistant]: second answer'.length;
    const result = bootstrapContent(history, 'now', bound);
    expect(result.content).toBe(
      [HISTORY_BEGIN, '(2 older messages omitted)', '[user]: second question', '[assistant]: second answer', HISTORY_END, '', 'now'].join('\n'),
    );
    expect(result).toMatchObject({ replayed: 2, omitted: 2 });
    expect(bootstrapContent(history.slice(1), 'now', bound).content).toContain('(1 older message omitted)\n');
  });

  it('keeps the end of a long newest message rather than dropping all context', () => {
    const long = `${'x'.repeat(500)}THE END`;
    const result = bootstrapContent([u('old'), a(long)], 'next', 200);
    const lines = transcriptLines(result.content);
    expect(lines.startsWith(`[assistant]: ${CUT_MARK}`)).toBe(true);
    expect(lines.endsWith('THE END')).toBe(true);
    expect(lines.length).toBe(200);
    expect(result).toMatchObject({ replayed: 1, omitted: 1 });
  });

  it('sends the message alone when not even a useful part of the history fits', () => {
    expect(bootstrapContent([u('a'.repeat(100))], 'only this', 50)).toEqual({ content: 'only this', replayed: 0, omitted: 1 });
    expect(bootstrapContent([u('x')], 'only this', 0)).toEqual({ content: 'only this', replayed: 0, omitted: 1 });
    expect(bootstrapContent([], 'only this', 1000)).toEqual({ content: 'only this', replayed: 0, omitted: 0 });
  });

  it('never exceeds the bound, keeps a newest suffix whole and accounts for every message', () => {
    const entry = fc.record({ role: fc.constantFrom('user' as const, 'assistant' as const), content: fc.string({ maxLength: 300 }) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), fc.integer({ min: 0, max: 2000 }), (history, maxChars) => {
        const result = bootstrapContent(history, 'NEW', maxChars);
        expect(result.replayed + result.omitted).toBe(history.length);
        expect(result.content.endsWith('NEW')).toBe(true);
        if (result.replayed === 0) return;
        const lines = transcriptLines(result.content);
        expect(lines.length).toBeLessThanOrEqual(maxChars);
        // Every message after the oldest replayed one appears whole, in order.
        const whole = history.slice(history.length - result.replayed + 1).map((e) => `[${e.role}]: ${e.content}`);
        expect(lines.endsWith(whole.join('\n'))).toBe(true);
      }),
    );
  });
});
