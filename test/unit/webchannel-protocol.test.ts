import { x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import {
  E2E_ALG,
  E2eError,
  base64UrlDecode,
  base64UrlEncode,
  deriveE2eKey,
  makeEnvelope,
  openE2e,
  parseEnvelope,
  parsePayload,
  sealE2e,
} from '@synthesis-agent/protocol';

const frame = (value: unknown) => JSON.stringify(value);

describe('webchannel envelope', () => {
  it('accepts the minimal envelope and drops unknown fields', () => {
    const parsed = parseEnvelope(frame({ v: 1, type: 'user_message', session_id: 's', extra: 1 }));
    expect(parsed).toEqual({ ok: true, envelope: { v: 1, type: 'user_message', session_id: 's' } });
  });

  it.each([
    ['wrong v', { v: 2, type: 'user_message', session_id: 's' }, 'v'],
    ['v as a string', { v: '1', type: 'user_message', session_id: 's' }, 'v'],
    ['unknown type', { v: 1, type: 'shout', session_id: 's' }, 'type'],
    ['missing session_id', { v: 1, type: 'user_message' }, 'session_id'],
    ['empty session_id', { v: 1, type: 'user_message', session_id: '' }, 'session_id'],
    ['non-object payload', { v: 1, type: 'user_message', session_id: 's', payload: 'x' }, 'payload'],
  ])('refuses %s with invalid_envelope naming the field', (_name, value, field) => {
    const parsed = parseEnvelope(frame(value));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.code).toBe('invalid_envelope');
    expect(parsed.message).toContain(field);
  });

  it('echoes session_id and request_id of an invalid envelope so the error can be correlated', () => {
    const parsed = parseEnvelope(frame({ v: 9, type: 'user_message', session_id: 's1', request_id: 'r1' }));
    expect(parsed).toMatchObject({ ok: false, sessionId: 's1', requestId: 'r1' });
    expect(parseEnvelope(frame([1]))).toMatchObject({ ok: false, sessionId: 'unknown' });
  });

  it('refuses text that is not JSON with invalid_json', () => {
    expect(parseEnvelope('{nope')).toMatchObject({ ok: false, code: 'invalid_json' });
  });

  it('builds envelopes without undefined extras', () => {
    expect(makeEnvelope('error', 's', { message: 'm' }, { request_id: undefined, agent_id: 'a' })).toEqual({
      v: 1,
      type: 'error',
      session_id: 's',
      agent_id: 'a',
      payload: { message: 'm' },
    });
  });

  it('validates payloads per event', () => {
    expect(parsePayload('user_message', { content: 'hi' }).ok).toBe(true);
    expect(parsePayload('user_message', { e2e: { nonce: 'a', ciphertext: 'b' } }).ok).toBe(true);
    expect(parsePayload('user_message', {})).toMatchObject({ ok: false, message: expect.stringContaining('content or e2e') });
    expect(parsePayload('user_message', { e2e: { alg: 'rot13', nonce: 'a', ciphertext: 'b' } }).ok).toBe(false);
    expect(parsePayload('pairing_request', { pairing_code: '123456', client_public_key: 'k' }).ok).toBe(true);
    expect(parsePayload('pairing_request', undefined).ok).toBe(false);
    expect(parsePayload('approval_response', { approved: 'yes' }).ok).toBe(false);
    expect(parsePayload('error', { code: 'x' }).ok).toBe(false);
    expect(parsePayload('error', { message: 'm' }).ok).toBe(true);
  });
});

describe('webchannel E2E crypto', () => {
  const key = deriveE2eKey(new Uint8Array(32).fill(7));

  it('round-trips base64url, refusing other alphabets', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = base64UrlEncode(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64url'));
    expect(base64UrlDecode(text)).toEqual(bytes);
    expect(base64UrlDecode(`${base64UrlEncode(new Uint8Array([1]))}==`)).toEqual(new Uint8Array([1]));
    expect(() => base64UrlDecode('ab+/')).toThrow(E2eError);
    expect(() => base64UrlDecode('abcde')).toThrow(E2eError);
  });

  it('derives SHA-256("webchannel-e2e-v1" || shared secret)', async () => {
    const shared = new Uint8Array(32).fill(7);
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256').update('webchannel-e2e-v1').update(shared).digest();
    expect(Buffer.from(deriveE2eKey(shared))).toEqual(expected);
  });

  it('agrees on one key from both ends of an X25519 exchange', () => {
    const a = x25519.keygen();
    const b = x25519.keygen();
    const ab = deriveE2eKey(x25519.getSharedSecret(a.secretKey, b.publicKey));
    expect(deriveE2eKey(x25519.getSharedSecret(b.secretKey, a.publicKey))).toEqual(ab);
  });

  it('seals with a fresh 12-byte nonce and opens what it sealed', () => {
    const one = sealE2e(key, { content: 'héllo', sender_id: 'u' });
    const two = sealE2e(key, { content: 'héllo', sender_id: 'u' });
    expect(one.alg).toBe(E2E_ALG);
    expect(base64UrlDecode(one.nonce)).toHaveLength(12);
    expect(one.nonce).not.toBe(two.nonce);
    expect(openE2e(key, one)).toEqual({ content: 'héllo', sender_id: 'u' });
  });

  it('refuses a tampered ciphertext, a swapped nonce and the wrong key', () => {
    const box = sealE2e(key, { content: 'secret' });
    const bytes = base64UrlDecode(box.ciphertext);
    bytes[0]! ^= 1;
    expect(() => openE2e(key, { ...box, ciphertext: base64UrlEncode(bytes) })).toThrow('authentication failed');
    expect(() => openE2e(key, { ...box, nonce: sealE2e(key, { content: 'x' }).nonce })).toThrow(E2eError);
    expect(() => openE2e(deriveE2eKey(new Uint8Array(32)), box)).toThrow(E2eError);
    expect(() => openE2e(key, { ...box, nonce: base64UrlEncode(new Uint8Array(8)) })).toThrow('nonce must be 12 bytes');
  });
});
