import { isIPv4, isIPv6 } from 'node:net';
import type { Clock } from '../../common/clock.js';

export interface LoginRateLimitOptions {
  readonly clock: Clock;
  /** Sign-ins one address may start at once. Default 10. */
  readonly burst?: number;
  /** Sign-ins one address may start per minute, sustained. Default 10. */
  readonly perMinute?: number;
  /** Addresses remembered; the least recently seen is forgotten first. Default 10,000. */
  readonly maxClients?: number;
}

export type RateDecision = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  /** Monotonic ms of the last refill. */
  at: number;
}

/**
 * Which bucket an address draws from. One host has one IPv4 address but usually a whole IPv6 /64,
 * so IPv6 clients are limited per /64 (and IPv4-mapped IPv6 as the IPv4 address it is).
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined && isIPv4(mapped)) return mapped;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::', 2);
  const left = head === '' ? [] : head.split(':');
  const right = address.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * A token bucket per client address for `/auth/login`: starting a sign-in costs the daemon an IdP
 * round trip's worth of work and, before sign-in state was sealed into a cookie, a session slot.
 * The table of buckets is itself bounded, so a flood from many addresses cannot grow it; forgetting
 * an address only gives it a fresh burst.
 */
export class LoginRateLimiter {
  readonly #clock: Clock;
  readonly #burst: number;
  readonly #msPerToken: number;
  readonly #max: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: LoginRateLimitOptions) {
    this.#clock = options.clock;
    this.#burst = options.burst ?? 10;
    this.#msPerToken = 60_000 / (options.perMinute ?? 10);
    this.#max = options.maxClients ?? 10_000;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(address: string): RateDecision {
    const key = clientKey(address);
    const now = this.#clock.monotonic();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) / this.#msPerToken);
    bucket.at = now;
    // Re-inserted so the Map's order is least recently seen first.
    this.#buckets.delete(key);
    while (this.#buckets.size >= this.#max) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) break;
      this.#buckets.delete(oldest.value);
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(((1 - bucket.tokens) * this.#msPerToken) / 1000)) };
  }
}
