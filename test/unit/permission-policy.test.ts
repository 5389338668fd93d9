import { describe, expect, it } from 'vitest';
import {
  askedFor,
  parsePermissionAnswer,
  policyVerdict,
  relayText,
  stillWaitingText,
  toolPatternMatches,
  unanswerableText,
} from '../../packages/openclaw-plugin/src/permission-policy.js';
import { estimateTokens, estimateUsage } from '../../packages/openclaw-plugin/src/usage.js';

const request = {
  request_id: 'abcde',
  tool_name: 'Bash',
  description: 'Create a marker file',
  input_preview: '{"command":"touch x"}',
};

describe('toolPatternMatches', () => {
  it.each([
    ['Bash', 'Bash', true],
    ['Bash', 'BashOutput', false],
    ['Bash', 'bash', false],
    ['mcp__*', 'mcp__github__create_issue', true],
    ['mcp__*', 'Bash', false],
    ['mcp__github__*', 'mcp__gitlab__x', false],
    ['*', 'Anything', true],
    ['Web*', 'WebFetch', true],
    ['*Read', 'NotebookRead', true],
    // Regex metacharacters are literal; only * is a wildcard.
    ['Bash(git:*)', 'Bash', false],
    ['a.c', 'abc', false],
    ['a.c', 'a.c', true],
  ])('%s vs %s -> %s', (pattern, tool, expected) => {
    expect(toolPatternMatches(pattern, tool)).toBe(expected);
  });
});

describe('policyVerdict', () => {
  it('relay asks about everything not allow-listed', () => {
    expect(policyVerdict('relay', [], 'Bash')).toBeUndefined();
    expect(policyVerdict('relay', ['Read'], 'Bash')).toBeUndefined();
    expect(policyVerdict('relay', ['Read'], 'Read')).toBe('allow');
  });

  it('deny refuses everything, allow-list or not', () => {
    expect(policyVerdict('deny', [], 'Read')).toBe('deny');
    expect(policyVerdict('deny', ['*'], 'Read')).toBe('deny');
  });

  it('allow-listed allows matches and denies the rest', () => {
    const allow = ['mcp__*', 'Bash'];
    expect(policyVerdict('allow-listed', allow, 'Bash')).toBe('allow');
    expect(policyVerdict('allow-listed', allow, 'mcp__github__list')).toBe('allow');
    expect(policyVerdict('allow-listed', allow, 'Write')).toBe('deny');
    expect(policyVerdict('allow-listed', [], 'Bash')).toBe('deny');
  });
});

describe('parsePermissionAnswer', () => {
  it.each([
    ['yes abcde', 'abcde', 'allow'],
    ['no abcde', 'abcde', 'deny'],
    ['y abcde', 'abcde', 'allow'],
    ['n abcde', 'abcde', 'deny'],
    ['YES ABCDE', 'abcde', 'allow'],
    ['No AbCdE', 'abcde', 'deny'],
    ['  yes   abcde  ', 'abcde', 'allow'],
    ['yes abcde\r', 'abcde', 'allow'],
  ])('%j -> %s %s', (text, requestId, behavior) => {
    expect(parsePermissionAnswer(text)).toEqual({ requestId, behavior });
  });

  it('looks only at the first line (OpenClaw appends its context block)', () => {
    const content = 'yes abcde\n\n<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nno zzzzz\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>';
    expect(parsePermissionAnswer(content)).toEqual({ requestId: 'abcde', behavior: 'allow' });
    expect(parsePermissionAnswer('context first\nyes abcde')).toBeUndefined();
  });

  it.each(['yes', 'yes abcd', 'yes abcdef', 'yes abcde please', 'yes, abcde', 'yes abcde.', 'sure abcde', 'yes abc1e', 'ok'])(
    'ignores %j',
    (text) => expect(parsePermissionAnswer(text)).toBeUndefined(),
  );
});

describe('relay texts', () => {
  it('names the tool, shows description and preview, and says how to answer', () => {
    const text = relayText(request, 600_000);
    expect(text).toContain('**Bash**');
    expect(text).toContain('Create a marker file');
    expect(text).toContain('```\n{"command":"touch x"}\n```');
    expect(text).toContain('`yes abcde`');
    expect(text).toContain('`no abcde`');
    expect(text).toContain('within 10 min');
    expect(askedFor(text, 'abcde')).toBe(true);
    expect(askedFor(text, 'abcdf')).toBe(false);
  });

  it('shows short deadlines in seconds and leaves out an empty preview', () => {
    const text = relayText({ ...request, input_preview: '' }, 1500);
    expect(text).toContain('within 2 s');
    expect(text).not.toContain('```');
  });

  it('fences a preview that itself holds a code fence with a longer fence', () => {
    const text = relayText({ ...request, input_preview: '# doc\n```sh\nls\n```' }, 60_000);
    expect(text).toContain('````\n# doc\n```sh\nls\n```\n````');
  });

  it('reminds a user who wrote something else while a question waits', () => {
    const text = stillWaitingText(request, 30_000);
    expect(text).toMatch(/^Claude is still waiting for your answer/);
    expect(text).toContain('not sent to Claude');
    expect(text).toContain('`yes abcde`');
  });

  it('tells a late answer why it changes nothing', () => {
    expect(unanswerableText('abcde', 'expired', [])).toMatch(/expired without an answer and was denied/);
    expect(unanswerableText('abcde', 'answered', [])).toMatch(/already answered/);
    expect(unanswerableText('abcde', 'abandoned', [])).toMatch(/Claude turn that asked for it is over/);
    expect(unanswerableText('abcde', undefined, [])).toMatch(/no pending permission request `abcde`/);
    expect(unanswerableText('abcdf', undefined, ['abcde'])).toMatch(/Claude is waiting for an answer to `abcde`\.$/);
  });
});

describe('usage estimate', () => {
  it('counts about four characters per token, rounded up, and says it is an estimate', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateUsage('x'.repeat(40), 'y'.repeat(9))).toEqual({
      prompt_tokens: 10,
      completion_tokens: 3,
      total_tokens: 13,
      estimated: true,
    });
  });
});
