/** Pairing codes on a test clock: one-time use, expiry, and the 5-minute lockout ending. */
import { afterEach, describe, expect, it } from 'vitest';
import { PAIRING_LOCKOUT_MS, PairingCodes } from '../../packages/openclaw-plugin/src/webchannel/pairing.js';

let clock = 0;
const announced: string[] = [];
let codes: PairingCodes | undefined;

function start(ttlS = 60): PairingCodes {
  clock = 1_000_000;
  announced.length = 0;
  codes = new PairingCodes({ ttlS, now: () => clock, onNewCode: (code) => announced.push(code) });
  return codes;
}

afterEach(() => codes?.close());

const other = (code: string) => (code === '000000' ? '000001' : '000000');

describe('PairingCodes', () => {
  it('starts with an announced 6-digit code', () => {
    const pairing = start();
    expect(pairing.current()).toMatch(/^\d{6}$/);
    expect(announced).toEqual([pairing.current()]);
  });

  it('accepts a code once and announces its replacement', () => {
    const pairing = start();
    const code = pairing.current();
    expect(pairing.attempt(code)).toEqual({ ok: true });
    expect(pairing.attempt(code)).toEqual({ ok: false, reason: 'invalid' });
    expect(announced).toHaveLength(2);
    expect(announced[1]).toBe(pairing.current());
  });

  it('replaces an expired code', () => {
    const pairing = start(60);
    const code = pairing.current();
    clock += 59_999;
    expect(pairing.current()).toBe(code);
    clock += 1;
    expect(pairing.attempt(code)).toEqual({ ok: false, reason: 'invalid' });
    expect(pairing.current()).not.toBe(code);
    expect(announced).toHaveLength(2);
  });

  it('locks after 5 wrong codes for 5 minutes, then accepts again', () => {
    const pairing = start(300);
    const code = pairing.current();
    for (let i = 0; i < 4; i++) expect(pairing.attempt(other(code))).toEqual({ ok: false, reason: 'invalid' });
    expect(pairing.attempt(other(code))).toEqual({ ok: false, reason: 'locked', retryAfterS: 300 });
    clock += PAIRING_LOCKOUT_MS - 1000;
    expect(pairing.attempt(code)).toEqual({ ok: false, reason: 'locked', retryAfterS: 1 });
    clock += 1000;
    // The lockout outlasted the code's 300 s, so the code to use now is a fresh one.
    expect(pairing.attempt(pairing.current())).toEqual({ ok: true });
  });

  it('counts wrong codes in a row only: a success resets the count', () => {
    const pairing = start();
    for (let i = 0; i < 4; i++) pairing.attempt(other(pairing.current()));
    expect(pairing.attempt(pairing.current())).toEqual({ ok: true });
    for (let i = 0; i < 4; i++) expect(pairing.attempt(other(pairing.current()))).toEqual({ ok: false, reason: 'invalid' });
  });
});
