import type { Clock, TimerHandle } from '../../../common/clock.js';
import { errorMessage } from '../../../common/errors.js';
import type { Logger } from '../../../common/logger.js';
import type { VaultAuthConfig } from '../../config/types.js';
import type { VaultClient } from '../client/api.js';
import type { RetryPolicy } from '../client/retry-policy.js';
import { login } from './login.js';

export interface TokenKeeperOptions {
  readonly client: VaultClient;
  readonly auth: VaultAuthConfig;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retry: RetryPolicy;
}

/** The daemon's own Vault token: logged in once, then renewed (or logged in afresh) before it expires. */
export interface TokenKeeper {
  /** Logs in and schedules the next refresh at two thirds of the token's TTL. */
  authenticate(): Promise<void>;
  /** Stops refreshing; a refresh already running finishes but schedules nothing. */
  close(): void;
}

export function createTokenKeeper({ client, auth, clock, log, retry }: TokenKeeperOptions): TokenKeeper {
  let closed = false;
  let refreshTimer: TimerHandle | null = null;
  /** Lease of the last login: renewals that come back much shorter have hit the token's max TTL. */
  let loginTtlS = 0;
  let reloginFailures = 0;

  function schedule(ms: number, task: () => Promise<void>): void {
    if (refreshTimer) clock.clearTimeout(refreshTimer);
    refreshTimer = null;
    if (closed) return;
    refreshTimer = clock.setTimeout(() => {
      refreshTimer = null;
      void task();
    }, ms);
    // Keeping the token alive must not keep the process alive on its own.
    refreshTimer.unref();
  }

  function scheduleRefresh(ttlS: number, renewable: boolean): void {
    // TTL 0 means the token never expires (e.g. a root token in development).
    if (ttlS <= 0) return;
    schedule(Math.max(1, Math.floor((ttlS * 1000 * 2) / 3)), () => refresh(renewable));
  }

  async function authenticate(): Promise<void> {
    const { ttlS, renewable } = await login(client, auth);
    loginTtlS = ttlS;
    reloginFailures = 0;
    log.info({ auth: auth.kind, ttlS, renewable }, 'vault: daemon authenticated');
    scheduleRefresh(ttlS, renewable);
  }

  /** Renews while renewal still extends the token much; otherwise (or on failure) logs in again. */
  async function refresh(renewable: boolean): Promise<void> {
    if (closed) return;
    if (renewable) {
      try {
        const { leaseDurationS } = await client.renewSelf();
        // A renewal that no longer extends the token much has hit its max TTL: log in afresh.
        if (leaseDurationS * 3 >= loginTtlS) {
          log.debug({ ttlS: leaseDurationS }, 'vault: daemon token renewed');
          scheduleRefresh(leaseDurationS, true);
          return;
        }
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'vault: renewing the daemon token failed; logging in again');
      }
    }
    try {
      await authenticate();
    } catch (err) {
      reloginFailures++;
      const delay = Math.max(1, retry.backoff(reloginFailures));
      log.error({ err: errorMessage(err), failures: reloginFailures }, 'vault: daemon login failed; retrying');
      schedule(delay, () => refresh(false));
    }
  }

  return {
    authenticate,
    close() {
      closed = true;
      if (refreshTimer) clock.clearTimeout(refreshTimer);
      refreshTimer = null;
    },
  };
}
