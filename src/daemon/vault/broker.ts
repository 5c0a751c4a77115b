import type { ResourceConfig } from '../config/types.js';
import type { Credentials } from '../../model/request.js';

/** What a mint produced. `token` and `credentials` are secrets: never log or audit them. */
export interface MintedGrant {
  readonly token: string;
  readonly accessor: string;
  readonly leaseIds: readonly string[];
  readonly credentials: Credentials;
  readonly ttlMs: number;
}

/** Mints and revokes per-grant Vault credentials. */
export interface Broker {
  /**
   * Creates a child token (resource policies, `ttl` = `explicit_max_ttl` = ttlMs, not renewable),
   * reads the resource's `read` path with it, and maps the result to env names.
   * On any failure revokes whatever was created and throws UnavailableError: nothing half-issued.
   * `onAccessor` is called as soon as the token exists, before the read, so the caller can record it.
   */
  mint(
    resource: ResourceConfig,
    ttlMs: number,
    meta: Readonly<Record<string, string>>,
    onAccessor?: (accessor: string) => Promise<void>,
  ): Promise<MintedGrant>;
  /**
   * Revokes the leases (when given) and the token by accessor, retrying with backoff.
   * Treats "already gone" as success. Throws UnavailableError when every attempt failed.
   */
  revoke(accessor: string, leaseIds: readonly string[]): Promise<void>;
  /** Resolves when Vault is reachable, unsealed and the daemon's own token works. */
  check(): Promise<void>;
  close(): Promise<void>;
}
