import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ByoCryptoError,
  decodeKey,
  decryptByo,
  deriveByoKey,
  encodeKey,
  encryptByo,
  generateKeyPair,
  parseReasoningJob,
  ReasoningResultSchema,
} from '@synthesis-agent/protocol';

const envelope = (overrides: Record<string, unknown> = {}) => ({
  event_type: 'reasoning_job',
  job_id: randomUUID(),
  purpose: 'live_analysis',
  deadline_at: '2030-01-01T00:00:00Z',
  schema_version: 1,
  envelope_version: 1,
  response_schema: { type: 'object' },
  payload: { a: 1 },
  provider_kind: 'openclaw',
  ...overrides,
});

describe('parseReasoningJob', () => {
  it('accepts a valid envelope, ignoring fields it does not know', () => {
    const raw = envelope({ extra: true, deadline_at: '2030-01-01T01:00:00+01:00' });
    const parsed = parseReasoningJob(raw);
    expect(parsed).toMatchObject({ ok: true, job: { job_id: raw.job_id, purpose: 'live_analysis' } });
  });

  it('refuses an unknown version as unsupported, addressed to the job', () => {
    const raw = envelope({ envelope_version: 2, purpose: 'something_new' });
    const parsed = parseReasoningJob(raw);
    expect(parsed).toEqual({
      ok: false,
      jobId: raw.job_id,
      error: { code: 'unsupported_version', message: expect.stringContaining('envelope_version 2') },
    });
    expect(parseReasoningJob(envelope({ schema_version: '1' }))).toMatchObject({ ok: false, error: { code: 'unsupported_version' } });
  });

  it('names the bad fields of an addressable envelope', () => {
    const raw = envelope({ purpose: 'poetry', deadline_at: 'tomorrow' });
    const parsed = parseReasoningJob(raw);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.jobId).toBe(raw.job_id);
    expect(parsed.error.code).toBe('invalid_envelope');
    expect(parsed.error.message).toMatch(/purpose/);
    expect(parsed.error.message).toMatch(/deadline_at/);
  });

  it('cannot address an envelope without a uuid job_id', () => {
    for (const raw of [envelope({ job_id: 'job-1' }), null, 'text', [1]]) {
      const parsed = parseReasoningJob(raw);
      expect(parsed).toMatchObject({ ok: false, error: { code: 'invalid_envelope' } });
      expect(parsed.ok || parsed.jobId).toBeUndefined();
    }
  });
});

describe('ReasoningResultSchema', () => {
  const base = { job_id: randomUUID(), completed_at: new Date().toISOString(), provider_kind: 'openclaw', schema_version: 1, envelope_version: 1 };
  it('ties result to completed and error to the other statuses', () => {
    expect(ReasoningResultSchema.safeParse({ ...base, status: 'completed', result: { a: 1 } }).success).toBe(true);
    expect(ReasoningResultSchema.safeParse({ ...base, status: 'completed', result: null }).success).toBe(true);
    expect(ReasoningResultSchema.safeParse({ ...base, status: 'timed_out', error: { code: 'deadline_exceeded', message: 'late' } }).success).toBe(true);
    expect(ReasoningResultSchema.safeParse({ ...base, status: 'completed' }).success).toBe(false);
    expect(ReasoningResultSchema.safeParse({ ...base, status: 'failed', result: 1, error: { code: 'turn_failed', message: 'x' } }).success).toBe(false);
  });
});

describe('BYO crypto', () => {
  const info = 'stagewhisper-byo-v1';

  it('derives the same key on both sides and round-trips in both directions', () => {
    const gateway = generateKeyPair();
    const backend = generateKeyPair();
    const gatewayKey = deriveByoKey(gateway.secretKey, backend.publicKey, info);
    const backendKey = deriveByoKey(backend.secretKey, gateway.publicKey, info);
    expect(encodeKey(gatewayKey)).toBe(encodeKey(backendKey));
    const box = encryptByo(backendKey, JSON.stringify({ text: 'héllo' }));
    expect(Buffer.from(box.nonce, 'base64')).toHaveLength(24);
    expect(JSON.parse(decryptByo(gatewayKey, box))).toEqual({ text: 'héllo' });
    expect(decryptByo(backendKey, encryptByo(gatewayKey, 'back'))).toBe('back');
  });

  it('matches an independent X25519 + HKDF-SHA256 (node:crypto)', () => {
    const ours = generateKeyPair();
    const peer = generateKeyPair();
    const jwk = (pub: Uint8Array, secret?: Uint8Array) => ({
      kty: 'OKP',
      crv: 'X25519',
      x: encodeKey(pub),
      ...(secret ? { d: encodeKey(secret) } : {}),
    });
    const shared = diffieHellman({
      privateKey: createPrivateKey({ key: jwk(ours.publicKey, ours.secretKey), format: 'jwk' }),
      publicKey: createPublicKey({ key: jwk(peer.publicKey), format: 'jwk' }),
    });
    const expected = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), info, 32));
    expect(encodeKey(deriveByoKey(ours.secretKey, peer.publicKey, info))).toBe(expected.toString('base64url'));
  });

  it('refuses tampered ciphertext, another key, another info label and a bad nonce', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const key = deriveByoKey(a.secretKey, b.publicKey, info);
    const box = encryptByo(key, 'secret');
    const bytes = Buffer.from(box.ciphertext, 'base64');
    bytes[0]! ^= 1;
    expect(() => decryptByo(key, { ...box, ciphertext: bytes.toString('base64') })).toThrow(ByoCryptoError);
    expect(() => decryptByo(deriveByoKey(a.secretKey, generateKeyPair().publicKey, info), box)).toThrow(/failed authentication/);
    expect(() => decryptByo(deriveByoKey(a.secretKey, b.publicKey, 'other-label'), box)).toThrow(ByoCryptoError);
    expect(() => decryptByo(key, { ...box, nonce: Buffer.alloc(12).toString('base64') })).toThrow(/nonce must be 24 bytes/);
  });

  it('accepts base64url ciphertext and checks key lengths', () => {
    const a = generateKeyPair();
    const key = deriveByoKey(a.secretKey, generateKeyPair().publicKey, info);
    const box = encryptByo(key, 'x');
    const urlSafe = { ciphertext: Buffer.from(box.ciphertext, 'base64').toString('base64url'), nonce: Buffer.from(box.nonce, 'base64').toString('base64url') };
    expect(decryptByo(key, urlSafe)).toBe('x');
    expect(decodeKey(encodeKey(a.publicKey))).toEqual(a.publicKey);
    expect(() => decodeKey('abcd', 'backend key')).toThrow(/backend key must be 32 bytes/);
    expect(() => deriveByoKey(a.secretKey, new Uint8Array(32), info)).toThrow(ByoCryptoError);
  });
});
