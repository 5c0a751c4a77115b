import { grantStage } from '../../common/grant-stages.js';
import { UnavailableError, errorMessage } from '../../common/errors.js';
import { ownValue } from '../../common/own-keys.js';
import type { Logger } from '../../common/logger.js';
import type { Credentials } from '../../model/request.js';
import type { ResourceConfig } from '../config/types.js';
import type { MintedGrant } from './broker.js';
import type { VaultClient } from './client/api.js';
import type { RetryPolicy } from './client/retry-policy.js';
import { revokeGrant, shortAccessor, type RevokeDeps } from './revoke.js';

export interface MintDeps {
  readonly client: VaultClient;
  readonly retry: RetryPolicy;
  readonly log: Logger;
  /** Attempts for each Vault call of the mint (create, read) while it fails retryably. */
  readonly attempts: number;
  /** How a half-made grant is cleaned up. */
  readonly revoke: RevokeDeps;
  /** `vault.token_role`: child tokens are created through this token role when set. */
  readonly tokenRole?: string;
}

/** Env source that means "the child token itself" rather than a field of the read response. */
const TOKEN_SOURCE = 'token';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** KV v2 nests the secret under `data.data` next to `data.metadata`; env keys name the inner fields. */
function secretFields(data: Record<string, unknown>): Record<string, unknown> {
  return isRecord(data.data) && isRecord(data.metadata) ? data.data : data;
}

/** The resource's env names filled from the read's fields (or the child token); a missing field fails the mint. */
function mapCredentials(resource: ResourceConfig, token: string, data: Record<string, unknown>): Credentials {
  const credentials: Record<string, string> = {};
  for (const [envName, source] of Object.entries(resource.env)) {
    if (source === TOKEN_SOURCE) {
      credentials[envName] = token;
      continue;
    }
    const value = ownValue(data, source);
    if (typeof value !== 'string') {
      const from = resource.vault.read ?? '(no read path)';
      throw new UnavailableError(`vault: ${from} has no string field ${JSON.stringify(source)} for ${envName}`);
    }
    credentials[envName] = value;
  }
  return credentials;
}

/** The child token of one grant: the resource's policies, `ttl` = `explicit_max_ttl`, not renewable. */
function createChildToken(deps: MintDeps, resource: ResourceConfig, ttlS: number, meta: Readonly<Record<string, string>>) {
  return deps.retry.withRetry(deps.attempts, 'vault: creating the child token', () =>
    deps.client.createChildToken({
      policies: resource.vault.policies,
      ttl: `${ttlS}s`,
      // Equal to ttl and not renewable: nothing, not even the daemon, can stretch the grant.
      explicitMaxTtl: `${ttlS}s`,
      renewable: false,
      meta,
      displayName: `jitgate-${resource.name}`,
      // `default` stays: it lets the step look up and revoke its own token, nothing more.
      noDefaultPolicy: false,
      ...(deps.tokenRole !== undefined && { role: deps.tokenRole }),
    }),
  );
}

async function recordAccessor(onAccessor: (accessor: string) => Promise<void>, accessor: string): Promise<void> {
  try {
    await onAccessor(accessor);
  } catch (err) {
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(`vault: recording the token accessor failed: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Mints one grant: child token, accessor handed to `onAccessor` before anything is read, then the
 * resource's `read` path WITH the child token (so any lease is the child's and dies with it).
 * Nothing half-issued: on any failure the token and its leases are revoked before this rejects.
 */
export async function mintGrant(
  deps: MintDeps,
  resource: ResourceConfig,
  ttlMs: number,
  meta: Readonly<Record<string, string>>,
  onAccessor?: (accessor: string) => Promise<void>,
): Promise<MintedGrant> {
  const ttlS = Math.max(1, Math.ceil(ttlMs / 1000));
  const child = await createChildToken(deps, resource, ttlS, meta);
  grantStage('token-created');
  const leaseIds: string[] = [];
  try {
    if (onAccessor) await recordAccessor(onAccessor, child.accessor);
    let fields: Record<string, unknown> = {};
    const path = resource.vault.read;
    if (path !== undefined) {
      const result = await deps.retry.withRetry(deps.attempts, `vault: reading ${path}`, () => deps.client.read(path, child.token));
      if (result.leaseId !== null) leaseIds.push(result.leaseId);
      fields = secretFields(result.data);
    }
    const credentials = mapCredentials(resource, child.token, fields);
    return { token: child.token, accessor: child.accessor, leaseIds, credentials, ttlMs: ttlS * 1000 };
  } catch (err) {
    try {
      await revokeGrant(deps.revoke, child.accessor, leaseIds);
    } catch (revokeErr) {
      deps.log.error({ accessor: shortAccessor(child.accessor), err: errorMessage(revokeErr) }, 'vault: cleanup after a failed mint failed');
    }
    if (err instanceof UnavailableError) throw err;
    throw new UnavailableError(`vault: minting ${resource.name} failed: ${errorMessage(err)}`, { cause: err });
  }
}
