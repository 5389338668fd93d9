/**
 * Token usage as an estimate. The bridge never sees Claude's token counts, yet clients track cost
 * from `usage` and zeros would read as "free": report ≈ 4 characters per token (the usual rule of
 * thumb for English text with Claude's tokenizer) and flag it with `estimated: true`.
 */
const CHARS_PER_TOKEN = 4;

export interface EstimatedUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  estimated: true;
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

export function estimateUsage(promptText: string, completionText: string): EstimatedUsage {
  const prompt_tokens = estimateTokens(promptText);
  const completion_tokens = estimateTokens(completionText);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, estimated: true };
}
