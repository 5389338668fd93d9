/** Raw HTTP + SSE access for tests that assert on bytes the openai client hides ([DONE], heartbeats). */
import { createParser } from 'eventsource-parser';

/** A chat's messages: one user message. */
export function user(content: string) {
  return [{ role: 'user' as const, content }];
}

export function postChat(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Every `data:` payload of an SSE response, in order, until the server ends the stream. */
export async function readSse(response: Response): Promise<string[]> {
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
  const data: string[] = [];
  const parser = createParser({ onEvent: (event) => data.push(event.data) });
  const decoder = new TextDecoder();
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(bytes, { stream: true }));
  }
  return data;
}
