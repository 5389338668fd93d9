/**
 * One-time pairing codes. There is always exactly one valid 6-digit code; it is replaced when it
 * is used or expires, and every new code is announced through `onNewCode` (the gateway logs it).
 * Five wrong codes in a row lock pairing for five minutes, which bounds guessing to 5 tries per
 * 5 minutes against a 10^6 space.
 */
import { randomInt } from 'node:crypto';
import { safeEqual } from '../safe-equal.js';

export const MAX_PAIRING_FAILURES = 5;
export const PAIRING_LOCKOUT_MS = 5 * 60_000;

export type PairingAttempt = { ok: true } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; retryAfterS: number };

export interface PairingOptions {
  ttlS: number;
  onNewCode(code: string, ttlS: number): void;
  /** Injectable clock for tests of expiry and lockout. */
  now?: () => number;
}

export class PairingCodes {
  private code = '';
  private expiresAt = 0;
  private failures = 0;
  private lockedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: PairingOptions) {
    this.now = options.now ?? Date.now;
    this.rotate();
  }

  current(): string {
    // The timer announces a fresh code on time; this check covers a late timer or a test clock.
    if (this.now() >= this.expiresAt) this.rotate();
    return this.code;
  }

  attempt(code: string): PairingAttempt {
    const now = this.now();
    if (now < this.lockedUntil) return { ok: false, reason: 'locked', retryAfterS: Math.ceil((this.lockedUntil - now) / 1000) };
    if (safeEqual(code, this.current())) {
      this.failures = 0;
      this.rotate();
      return { ok: true };
    }
    this.failures += 1;
    if (this.failures >= MAX_PAIRING_FAILURES) {
      this.failures = 0;
      this.lockedUntil = now + PAIRING_LOCKOUT_MS;
      return { ok: false, reason: 'locked', retryAfterS: PAIRING_LOCKOUT_MS / 1000 };
    }
    return { ok: false, reason: 'invalid' };
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private rotate(): void {
    this.code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    this.expiresAt = this.now() + this.options.ttlS * 1000;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.rotate(), this.options.ttlS * 1000).unref();
    this.options.onNewCode(this.code, this.options.ttlS);
  }
}
