import type { Clock } from '../../common/clock.js';
import { UnavailableError, errorMessage } from '../../common/errors.js';
import type { ResourceConfig } from '../config/types.js';
import { mintGrant, type MintDeps } from './mint.js';
import { revokeGrant, shortAccessor } from './revoke.js';
import { grantBundle, type WrappedGrant } from './wrapped-grant.js';

export interface PlaneMintDeps extends MintDeps {
  readonly clock: Clock;
}

/** Vault's wrap TTL is whole seconds; a grant's wrapping token never lives longer than a day. */
const MAX_WRAP_TTL_S = 86_400;

/**
 * The approval plane's mint for `fleet.mint: plane`: {@link mintGrant} (child token, read under it),
 * then the whole grant wrapped for its owner. Only the wrapping token and non-secret facts leave.
 * The wrap is tried once: a retry after a lost answer would leave a second live wrapping token.
 */
export async function mintWrappedGrant(
  deps: PlaneMintDeps,
  resource: ResourceConfig,
  ttlMs: number,
  meta: Readonly<Record<string, string>>,
  wrapTtlS: number,
  onAccessor?: (accessor: string) => Promise<void>,
): Promise<WrappedGrant> {
  if (!Number.isFinite(wrapTtlS) || wrapTtlS < 1 || wrapTtlS > MAX_WRAP_TTL_S) {
    throw new UnavailableError(`vault: wrap TTL must be 1..${MAX_WRAP_TTL_S} seconds`);
  }
  const grant = await mintGrant(deps, resource, ttlMs, meta, onAccessor);
  // Read after the child token exists, so it is at or after the token's real end (its
  // explicit_max_ttl runs from creation): by then the grant is surely dead.
  const expiresAtMs = deps.clock.now() + grant.ttlMs;
  try {
    const info = await deps.client.wrap(grantBundle(grant), Math.ceil(wrapTtlS));
    return {
      wrappingToken: info.token,
      wrappingAccessor: info.accessor,
      wrapTtlS: info.ttlS,
      accessor: grant.accessor,
      leaseIds: grant.leaseIds,
      ttlMs: grant.ttlMs,
      expiresAtMs,
    };
  } catch (err) {
    try {
      await revokeGrant(deps.revoke, grant.accessor, grant.leaseIds);
    } catch (revokeErr) {
      deps.log.error({ accessor: shortAccessor(grant.accessor), err: errorMessage(revokeErr) }, 'vault: cleanup after a failed wrap failed');
    }
    throw new UnavailableError(`vault: wrapping the ${resource.name} grant failed: ${errorMessage(err)}`, { cause: err });
  }
}
