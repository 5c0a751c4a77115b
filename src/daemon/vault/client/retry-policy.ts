import type { Clock } from '../../../common/clock.js';
import { errorMessage } from '../../../common/errors.js';
import type { Logger } from '../../../common/logger.js';
import { VaultHttpError } from './http-errors.js';

const DEFAULT_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 30_000;

/** Bounded retries with exponential backoff for Vault calls: one policy for mint, revoke and re-login. */
export interface RetryPolicy {
  /** The wait before attempt `attempt + 1`: base·2^(attempt−1), capped at 30 s. */
  backoff(attempt: number): number;
  /** Waits `ms` on the clock (0 or less: at once). */
  sleep(ms: number): Promise<void>;
  /** Runs `run` up to `attempts` times while it fails with a retryable `VaultHttpError`, logging each retry. */
  withRetry<T>(attempts: number, what: string, run: () => Promise<T>): Promise<T>;
}

export interface RetryPolicyOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Base of the exponential backoff; 0 retries at once (tests). Default 100 ms. */
  readonly backoffMs?: number;
}

export function createRetryPolicy({ clock, log, backoffMs }: RetryPolicyOptions): RetryPolicy {
  const base = backoffMs ?? DEFAULT_BACKOFF_MS;
  const policy: RetryPolicy = {
    backoff: (attempt) => Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1)),
    sleep: (ms) => {
      if (ms <= 0) return Promise.resolve();
      return new Promise((resolve) => {
        clock.setTimeout(resolve, ms);
      });
    },
    async withRetry(attempts, what, run) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await run();
        } catch (err) {
          const retryable = err instanceof VaultHttpError && err.retryable;
          if (!retryable || attempt >= attempts) throw err;
          log.warn({ attempt, attempts, err: errorMessage(err) }, `${what} failed; retrying`);
          await policy.sleep(policy.backoff(attempt));
        }
      }
    },
  };
  return policy;
}
