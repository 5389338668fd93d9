/** A streaming chat-completion client that timestamps what matters to the benches. */
import http from 'node:http';

/**
 * POSTs a streaming chat completion and reads it to the end. Times are process.hrtime.bigint():
 * `sent` just before the request is written, `firstContent` when the bytes of the first
 * non-empty content delta arrive, `done` at [DONE].
 */
export function streamTurn(baseUrl, { content, model = 'claude-code', headers = {}, agent } = {}) {
  const body = JSON.stringify({ model, stream: true, messages: [{ role: 'user', content }] });
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
    });
    const result = { status: 0, sent: 0n, firstContent: undefined, done: undefined, text: '', error: undefined };
    req.on('error', reject);
    req.on('response', (res) => {
      result.status = res.statusCode;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (data) => {
        const now = process.hrtime.bigint();
        buffer += data;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const payload = event.split('\n').find((l) => l.startsWith('data: '))?.slice(6);
          if (payload === undefined) continue;
          if (payload === '[DONE]') {
            result.done = now;
            continue;
          }
          const chunk = JSON.parse(payload);
          if (chunk.error) result.error = chunk.error;
          const delta = chunk.choices?.[0]?.delta?.content;
          if (delta) {
            result.firstContent ??= now;
            result.text += delta;
          }
        }
      });
      res.on('end', () => resolve(result));
      res.on('error', reject);
    });
    result.sent = process.hrtime.bigint();
    req.end(body);
  });
}
