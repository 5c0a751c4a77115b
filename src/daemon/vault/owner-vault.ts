import type { Clock } from '../../common/clock.js';
import { UnavailableError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { MintedGrant } from './broker.js';
import { VaultHttpError } from './client/http-errors.js';
import { createRetryPolicy } from './client/retry-policy.js';
import { createVaultClient } from './vault-client.js';
import { shortAccessor } from './revoke.js';
import { grantFromBundle } from './wrapped-grant.js';

/**
 * Vault as a runner daemon sees it under `fleet.mint: plane`: no token of its own, only the
 * wrapping tokens the plane stored for it and the child tokens inside them.
 */
export interface OwnerVault {
  /**
   * Unwraps a plane-minted grant (once: Vault uses the wrapping token up). A wrapping token that
   * was already unwrapped, expired or never existed rejects with an UnavailableError whose code is
   * `WRAPPING_TOKEN_INVALID` (a second unwrap means someone else had it). `expectedAccessor`, the
   * accessor the plane recorded, must match the unwrapped grant's, or the grant is revoked and
   * refused with the same code. Other failures: UnavailableError (`ERR_UNAVAILABLE`). Not retried.
   */
  unwrap(wrappingToken: string, expectedAccessor?: string): Promise<MintedGrant>;
  /**
   * Revokes the grant's child token with itself (`auth/token/revoke-self`: token, children,
   * leases), retrying while Vault fails retryably. `'refused'` when Vault answers 403: the token is
   * already gone (expired, revoked) or may not revoke itself; the plane's revoke by accessor is the
   * backstop either way. Throws UnavailableError when every attempt failed.
   */
  revokeSelf(childToken: string): Promise<'revoked' | 'refused'>;
  close(): void;
}

export interface OwnerVaultOptions {
  readonly address: string;
  readonly timeoutMs: number;
  readonly caPem?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Attempts for revoke-self (at least 1). */
  readonly revokeAttempts: number;
  /** Base of the retry backoff; 0 retries at once (tests). */
  readonly backoffMs?: number;
}

/** Vault's answer to an unusable wrapping token (400), and a token it does not know at all (403). */
const INVALID_WRAPPING = /wrapping token is not valid or does not exist/i;

function invalidWrapping(err: VaultHttpError): boolean {
  return (err.status === 400 && INVALID_WRAPPING.test(err.vaultMessage)) || err.status === 403;
}

export function createOwnerVault(options: OwnerVaultOptions): OwnerVault {
  const log = options.logger.child({ component: 'owner-vault' });
  // No `token`: every call names its own (wrapping or child) token.
  const client = createVaultClient({ address: options.address, timeoutMs: options.timeoutMs, ...(options.caPem !== undefined ? { caPem: options.caPem } : {}) });
  const retry = createRetryPolicy({ clock: options.clock, log, ...(options.backoffMs === undefined ? {} : { backoffMs: options.backoffMs }) });

  const revokeSelf = async (childToken: string): Promise<'revoked' | 'refused'> => {
    try {
      await retry.withRetry(Math.max(1, options.revokeAttempts), 'vault: revoke-self', () => client.revokeSelf(childToken));
      return 'revoked';
    } catch (err) {
      if (err instanceof VaultHttpError && err.status === 403) return 'refused';
      throw new UnavailableError(`vault: revoke-self failed: ${errorMessage(err)}`, { cause: err });
    }
  };

  return {
    async unwrap(wrappingToken, expectedAccessor) {
      let data: Record<string, unknown>;
      try {
        data = await client.unwrap(wrappingToken);
      } catch (err) {
        if (err instanceof VaultHttpError && invalidWrapping(err)) {
          log.error({ status: err.status }, 'vault: the wrapping token was already used, expired or unknown');
          throw new UnavailableError('vault: the wrapping token is invalid: already unwrapped, expired or unknown', { cause: err, code: 'WRAPPING_TOKEN_INVALID' });
        }
        throw new UnavailableError(`vault: unwrapping the grant failed: ${errorMessage(err)}`, { cause: err });
      }
      const grant = grantFromBundle(data);
      if (expectedAccessor !== undefined && grant.accessor !== expectedAccessor) {
        log.error({ expected: shortAccessor(expectedAccessor), got: shortAccessor(grant.accessor) }, 'vault: the unwrapped grant is not the one the plane recorded');
        await revokeSelf(grant.token).catch((err: unknown) => {
          log.error({ accessor: shortAccessor(grant.accessor), err: errorMessage(err) }, 'vault: revoking the unexpected grant failed');
        });
        throw new UnavailableError('vault: the unwrapped grant is not the one the plane recorded', { code: 'WRAPPING_TOKEN_INVALID' });
      }
      return grant;
    },
    revokeSelf,
    close: () => {
      client.close();
    },
  };
}
