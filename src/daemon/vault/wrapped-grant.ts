import { UnavailableError } from '../../common/errors.js';
import type { Credentials } from '../../model/request.js';
import type { ResourceConfig } from '../config/types.js';
import type { MintedGrant } from './broker.js';

/**
 * Fleet mode with `fleet.mint: plane`: the approval plane mints a grant and hands its owner only a
 * Vault wrapping token; the owner (a runner daemon without Vault credentials) unwraps it once.
 */
export interface WrappedGrant {
  /** Secret and single-use: stored for the owner only, never logged or audited. */
  readonly wrappingToken: string;
  /** The wrapping token's accessor (not a secret). */
  readonly wrappingAccessor: string;
  /** Seconds the wrapping token lives unless unwrapped. */
  readonly wrapTtlS: number;
  /** The grant's child-token accessor: what the plane stores to revoke by accessor (backstop). */
  readonly accessor: string;
  /** The grant's lease ids (not secrets), revoked with the accessor. */
  readonly leaseIds: readonly string[];
  readonly ttlMs: number;
  /** Wall-clock end of the grant (epoch ms): the child token's `explicit_max_ttl` from the mint. */
  readonly expiresAtMs: number;
}

/** What mints wrapped grants: the plane's broker. */
export interface WrappingBroker {
  /**
   * Mints exactly as {@link import('./broker.js').Broker.mint} does (child token, the resource's
   * read under it, nothing half-issued), then wraps the grant (token, credentials, lease ids) with
   * `sys/wrapping/wrap` for `wrapTtlS` seconds. If the wrap fails the grant is revoked and this
   * throws UnavailableError. The plane never keeps the child token or the credentials.
   */
  mintWrapped(
    resource: ResourceConfig,
    ttlMs: number,
    meta: Readonly<Record<string, string>>,
    wrapTtlS: number,
    onAccessor?: (accessor: string) => Promise<void>,
  ): Promise<WrappedGrant>;
}

/** Marks the wrapped data as a jitgate grant bundle, and its layout version. */
const BUNDLE_KIND = 'jitgate-grant/1';

/** The data wrapped for the owner: everything `MintedGrant` holds. Secret. */
export function grantBundle(grant: MintedGrant): Record<string, unknown> {
  return {
    kind: BUNDLE_KIND,
    token: grant.token,
    accessor: grant.accessor,
    lease_ids: [...grant.leaseIds],
    credentials: { ...grant.credentials },
    ttl_ms: grant.ttlMs,
  };
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

/**
 * The grant inside unwrapped data. Anything else (another kind of wrapped response, a field
 * missing) is refused: the owner hands a step nothing it cannot account for. Messages never quote
 * the data, which holds secrets.
 */
export function grantFromBundle(data: Record<string, unknown>): MintedGrant {
  const { kind, token, accessor, lease_ids: leaseIds, credentials, ttl_ms: ttlMs } = data;
  const bad = (what: string): UnavailableError => new UnavailableError(`vault: the unwrapped grant is malformed (${what})`);
  if (kind !== BUNDLE_KIND) throw bad('not a jitgate grant');
  if (typeof token !== 'string' || token === '') throw bad('token');
  if (typeof accessor !== 'string' || accessor === '') throw bad('accessor');
  if (!Array.isArray(leaseIds) || !leaseIds.every((l): l is string => typeof l === 'string')) throw bad('lease_ids');
  if (!isStringRecord(credentials)) throw bad('credentials');
  if (typeof ttlMs !== 'number' || !Number.isInteger(ttlMs) || ttlMs <= 0) throw bad('ttl_ms');
  const creds: Credentials = { ...credentials };
  return { token, accessor, leaseIds: [...leaseIds], credentials: creds, ttlMs };
}
