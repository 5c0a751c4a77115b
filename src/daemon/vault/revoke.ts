import { UnavailableError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { VaultClient } from './client/api.js';
import type { RetryPolicy } from './client/retry-policy.js';

export interface RevokeDeps {
  readonly client: VaultClient;
  readonly retry: RetryPolicy;
  readonly log: Logger;
  /** Attempts (with backoff) before the revoke is given up and left to the token's TTL. */
  readonly attempts: number;
}

/** Accessors are not secrets, but a prefix is enough to correlate logs with the audit trail. */
export function shortAccessor(accessor: string): string {
  return accessor.slice(0, 6);
}

/**
 * Revokes a grant: its leases first and synchronously (the database role is gone before we report
 * success), then its token by accessor. Each attempt resumes with the leases still left; "already
 * gone" counts as done. Throws UnavailableError once every attempt failed.
 */
export async function revokeGrant(deps: RevokeDeps, accessor: string, leaseIds: readonly string[]): Promise<void> {
  const { client, retry, log } = deps;
  const attempts = Math.max(1, deps.attempts);
  const pending = [...leaseIds];
  const short = shortAccessor(accessor);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      for (let lease = pending[0]; lease !== undefined; lease = pending[0]) {
        await client.revokeLease(lease);
        pending.shift();
      }
      await client.revokeAccessor(accessor);
      return;
    } catch (err) {
      lastError = err;
      if (attempt < attempts) {
        log.warn({ accessor: short, attempt, attempts, err: errorMessage(err) }, 'vault: revoke failed; retrying');
        await retry.sleep(retry.backoff(attempt));
      }
    }
  }
  log.error(
    { accessor: short, attempts, leasesLeft: pending.length, err: errorMessage(lastError) },
    'vault: revoke failed after every attempt; the token TTL is the remaining backstop',
  );
  throw new UnavailableError(`vault: revoking token ${short}… failed after ${attempts} attempts: ${errorMessage(lastError)}`, {
    cause: lastError,
  });
}
