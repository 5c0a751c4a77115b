import type { Clock } from '../../common/clock.js';
import { UnavailableError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { VaultConfig } from '../config/types.js';
import { createTokenKeeper } from './auth/token-keeper.js';
import type { Broker } from './broker.js';
import type { VaultClient } from './client/api.js';
import { createRetryPolicy } from './client/retry-policy.js';
import { mintGrant, type MintDeps } from './mint.js';
import { mintWrappedGrant } from './plane-mint.js';
import { revokeGrant, type RevokeDeps } from './revoke.js';
import type { WrappingBroker } from './wrapped-grant.js';

export interface VaultBrokerOptions {
  readonly client: VaultClient;
  readonly config: VaultConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Base of the exponential retry backoff; 0 retries at once (tests). */
  readonly backoffMs?: number;
}

export type VaultBroker = Broker & WrappingBroker & {
  /** Logs the daemon in (token file or AppRole) and keeps its token alive until `close`. */
  authenticate(): Promise<void>;
};

/**
 * The broker over a real Vault: the daemon's own token (auth/token-keeper.ts), grants minted
 * (mint.ts) and revoked (revoke.ts) with one retry policy (client/retry-policy.ts).
 */
export function createVaultBroker(options: VaultBrokerOptions): VaultBroker {
  const { client, config, clock } = options;
  const log = options.logger.child({ component: 'vault-broker' });
  const retry = createRetryPolicy({ clock, log, ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }) });
  const keeper = createTokenKeeper({ client, auth: config.auth, clock, log, retry });
  const revokeDeps: RevokeDeps = { client, retry, log, attempts: config.revokeAttempts };
  const mintDeps: MintDeps = {
    client,
    retry,
    log,
    attempts: Math.max(1, config.mintAttempts),
    revoke: revokeDeps,
    ...(config.tokenRole !== undefined && { tokenRole: config.tokenRole }),
  };
  let closed = false;

  return {
    authenticate: () => keeper.authenticate(),
    mint: (resource, ttlMs, meta, onAccessor) => {
      if (closed) return Promise.reject(new UnavailableError('vault: broker is closed'));
      return mintGrant(mintDeps, resource, ttlMs, meta, onAccessor);
    },
    mintWrapped: (resource, ttlMs, meta, wrapTtlS, onAccessor) => {
      if (closed) return Promise.reject(new UnavailableError('vault: broker is closed'));
      return mintWrappedGrant({ ...mintDeps, clock }, resource, ttlMs, meta, wrapTtlS, onAccessor);
    },
    revoke: (accessor, leaseIds) => revokeGrant(revokeDeps, accessor, leaseIds),
    async check() {
      const health = await client.health();
      if (!health.initialized) throw new UnavailableError('vault: not initialized');
      if (health.sealed) throw new UnavailableError('vault: sealed');
      await client.lookupSelf();
    },
    close() {
      closed = true;
      keeper.close();
      client.close();
      return Promise.resolve();
    },
  };
}
