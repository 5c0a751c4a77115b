import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock.js';

/** An authorization request in flight: what the callback must match. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** Where to go after signing in; always a path of this site. */
  readonly returnTo: string;
  /** A step-up: the IdP was asked for a fresh login at this wall-clock ms, and must have done one. */
  readonly freshSince?: number;
}

export interface LoginSealerOptions {
  readonly clock: Clock;
  /** How long a started sign-in may take. Default 10 min. */
  readonly ttlMs?: number;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds the ciphertext to its use: nothing else this key might ever seal opens as a login. */
const AAD = Buffer.from('jitgate login v1');
/** A sealed login is ~300 bytes; anything much longer is not one of ours. */
const MAX_SEALED_CHARS = 2048;

function isPendingLogin(value: unknown): value is PendingLogin & { exp: number } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    ['state', 'nonce', 'verifier', 'returnTo'].every((k) => typeof v[k] === 'string') &&
    typeof v.exp === 'number' &&
    (v.freshSince === undefined || typeof v.freshSince === 'number')
  );
}

/**
 * Sign-ins in progress live in the browser, not in the daemon: the state, nonce, PKCE verifier and
 * return path are sealed (AES-256-GCM, a random key per daemon process) into a short-lived cookie.
 * Anonymous visitors starting sign-ins therefore hold no server memory and cannot push anything
 * out; the tag stops forgery, the encryption keeps the verifier from proxies and logs, and a
 * restart (new key) voids every sign-in in progress, which is the safe direction.
 */
export class LoginSealer {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #key = randomBytes(32);

  constructor(options: LoginSealerOptions) {
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? 600_000;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }

  seal(login: PendingLogin): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    // Monotonic: the key dies with the process, so the deadline never has to survive a restart.
    const plain = JSON.stringify({ ...login, exp: this.#clock.monotonic() + this.#ttlMs });
    const sealed = Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /** The login sealed in `value`, if it is ours, intact and not expired. */
  open(value: string | undefined): PendingLogin | undefined {
    if (value === undefined || value.length > MAX_SEALED_CHARS || !/^[A-Za-z0-9_-]+$/.test(value)) return undefined;
    const raw = Buffer.from(value, 'base64url');
    if (raw.length <= IV_BYTES + TAG_BYTES) return undefined;
    let parsed: unknown;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(AAD);
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
      parsed = JSON.parse(plain.toString('utf8'));
    } catch {
      // A wrong tag (forged, tampered, or sealed by a previous daemon): not a sign-in of ours.
      return undefined;
    }
    if (!isPendingLogin(parsed) || this.#clock.monotonic() >= parsed.exp) return undefined;
    return { state: parsed.state, nonce: parsed.nonce, verifier: parsed.verifier, returnTo: parsed.returnTo };
  }
}
