import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { Clock } from '../../common/clock.js';
import { IdentityError, UnavailableError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { boundedFetch, identityUrl } from './bounded-fetch.js';

type KeySet = ReturnType<typeof createLocalJWKSet>;

export interface JwksCacheOptions {
  readonly issuer: string;
  /** Discovered through `<issuer>/.well-known/openid-configuration` when absent. */
  readonly jwksUri?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch | undefined;
  /** Minimum time between two fetches, whatever prompts them. Default 30 s. */
  readonly cooldownMs?: number | undefined;
  /** Keys older than this are fetched again before use, so a removed key stops working. Default 10 min. */
  readonly maxAgeMs?: number | undefined;
  /** Aborted when the owning resolver closes. */
  readonly signal: AbortSignal;
}

const FETCH_TIMEOUT_MS = 10_000;
const MAX_DOCUMENT_BYTES = 512 * 1024;

/**
 * One issuer's signing keys. jose's remote JWKS keeps time with `Date.now()`, which tests cannot
 * drive, so the cooldown lives here on the injected monotonic clock. Every fetch, successful or
 * not, starts a cooldown: a burst of tokens with made-up `kid`s costs the issuer one request.
 */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  #keys: KeySet | undefined;
  #loadedAt = 0;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #jwksUri: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;

  constructor(options: JwksCacheOptions) {
    this.#options = options;
    this.#jwksUri = options.jwksUri;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
  }

  readonly getKey: JWTVerifyGetKey = async (header, token) => {
    const { clock } = this.#options;
    if (this.#keys === undefined || clock.monotonic() - this.#loadedAt >= this.#maxAgeMs) {
      this.#keys = undefined;
      await this.#refresh();
    }
    const keys = this.#keys;
    if (keys === undefined) throw new UnavailableError(`signing keys of ${this.#options.issuer} are unavailable`);
    try {
      return await keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // A kid we do not know may be a freshly rotated key: look again, but only once per cooldown.
      if (!this.#coolingDown() || this.#inflight !== undefined) {
        await this.#refresh();
        const fresh = this.#keys;
        if (fresh !== undefined && fresh !== keys) return await fresh(header, token);
      }
      throw new IdentityError('unknown signing key', { cause: err });
    }
  };

  #coolingDown(): boolean {
    return this.#options.clock.monotonic() - this.#lastAttempt < this.#cooldownMs;
  }

  async #refresh(): Promise<void> {
    if (this.#inflight !== undefined) {
      await this.#inflight;
      return;
    }
    if (this.#coolingDown()) return;
    this.#lastAttempt = this.#options.clock.monotonic();
    this.#inflight = this.#load().finally(() => {
      this.#inflight = undefined;
    });
    await this.#inflight;
  }

  async #load(): Promise<void> {
    const { issuer, logger, clock } = this.#options;
    try {
      this.#jwksUri ??= await this.#discover();
      const jwks = (await this.#getJson(this.#jwksUri, 'JWKS')) as JSONWebKeySet;
      const keys = createLocalJWKSet(jwks);
      this.#keys = keys;
      this.#loadedAt = clock.monotonic();
      logger.debug({ issuer, keys: jwks.keys.length }, 'fetched issuer signing keys');
    } catch (err) {
      logger.warn({ issuer, reason: errorMessage(err) }, 'cannot fetch issuer signing keys');
      throw err instanceof UnavailableError
        ? err
        : new UnavailableError(`signing keys of ${issuer} are unavailable`, { cause: err });
    }
  }

  async #discover(): Promise<string> {
    const { issuer } = this.#options;
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const doc = await this.#getJson(url, 'OpenID configuration');
    if (typeof doc !== 'object' || doc === null) throw new UnavailableError(`${url}: not a JSON object`);
    const { issuer: advertised, jwks_uri: jwksUri } = doc as { issuer?: unknown; jwks_uri?: unknown };
    // The discovery document must speak for exactly this issuer, or it could point us at anyone's keys.
    if (advertised !== issuer) throw new UnavailableError(`${url}: issuer does not match ${issuer}`);
    if (typeof jwksUri !== 'string') throw new UnavailableError(`${url}: missing or invalid jwks_uri`);
    // Plain http would let anyone on the path swap the keys: https, or http on loopback only.
    return identityUrl(jwksUri, `${url}: jwks_uri`).href;
  }

  async #getJson(url: string, what: string): Promise<unknown> {
    const signal = AbortSignal.any([this.#options.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]);
    // Streamed under a byte cap: an issuer (or whoever answers for it) cannot make us buffer gigabytes.
    const response = await boundedFetch(url, {
      fetch: this.#fetch,
      maxBytes: MAX_DOCUMENT_BYTES,
      what,
      headers: { accept: 'application/json' },
      signal,
    });
    if (!response.ok) throw new UnavailableError(`cannot fetch ${what} from ${url}: HTTP ${String(response.status)}`);
    try {
      return JSON.parse(response.text) as unknown;
    } catch (cause) {
      throw new UnavailableError(`${what} from ${url} is not JSON`, { cause });
    }
  }
}
