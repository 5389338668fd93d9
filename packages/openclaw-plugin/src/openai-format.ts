/** OpenAI response shapes: completion, stream chunks, and error bodies. */

export interface CompletionIds {
  id: string;
  created: number;
  model: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

type Delta = { role?: 'assistant'; content?: string };

export function chunk(ids: CompletionIds, delta: Delta, finishReason: 'stop' | null = null) {
  return {
    id: ids.id,
    object: 'chat.completion.chunk' as const,
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

export function completion(ids: CompletionIds, text: string, usage?: Usage) {
  return {
    id: ids.id,
    object: 'chat.completion' as const,
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content: text }, finish_reason: 'stop' as const }],
    ...(usage ? { usage } : {}),
  };
}

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'timeout_error';

function errorType(status: number): OpenAIErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 403 || status === 421) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function errorBody(status: number, code: string, message: string, param: string | null = null) {
  return { error: { message, type: errorType(status), code, param } };
}
