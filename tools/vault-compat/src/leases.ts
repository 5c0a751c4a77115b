import type { Clock } from './clock.js';
import { badRequest, errorMessage } from './api-error.js';
import { randomBase62 } from './ids.js';
import { rfc3339, SYSTEM_MAX_TTL_S } from './input.js';
import { scheduleAt } from './timers.js';
import type { TokenEntry, TokenStore } from './tokens.js';

export interface Lease {
  readonly id: string;
  readonly tokenId: string | null;
  readonly issueWall: number;
  readonly issueMono: number;
  /** Renewals never go past this. */
  readonly maxExpireMono: number;
  readonly renewable: boolean;
  expireMono: number;
  lastRenewalWall: number | null;
  /** The engine's clean-up (e.g. drop the database role). */
  readonly revoker: () => Promise<void>;
  /** What the storage file keeps so the engine can rebuild `revoker` after a restart. */
  readonly stored?: StoredRevoker;
  revoking: Promise<void> | null;
}

/** A JSON description of a lease's clean-up, e.g. which database role to drop. */
export interface StoredRevoker {
  readonly engine: 'database';
  readonly dbName: string;
  readonly username: string;
  readonly revocation: readonly string[];
}

/** If a revocation fails, the lease stays and is retried: fail closed, never forget a credential. */
const RETRY_MS = 5_000;

/** Leases recorded against the token that created them, expiring by timers on the injected clock. */
export class LeaseManager {
  readonly #clock: Clock;
  readonly #tokens: TokenStore;
  readonly #leases = new Map<string, Lease>();
  readonly #cancel = new Map<string, () => void>();
  readonly #pending = new Set<Promise<void>>();
  onRevokeError: (leaseId: string, message: string) => void = () => undefined;

  constructor(clock: Clock, tokens: TokenStore) {
    this.#clock = clock;
    this.#tokens = tokens;
    tokens.revokeLeases = (token) => this.revokeForToken(token);
  }

  /**
   * The TTL a new lease would get: `ttlS` (0 = system default), capped at `maxTtlS` and, so that a
   * lease never outlives its token, at the token's remaining life.
   */
  effectiveTtlS(token: TokenEntry | null, ttlS: number, maxTtlS: number): number {
    let ttl = ttlS > 0 ? ttlS : SYSTEM_MAX_TTL_S;
    const max = maxTtlS > 0 ? maxTtlS : SYSTEM_MAX_TTL_S;
    ttl = Math.min(ttl, max);
    if (token?.expireMono != null) ttl = Math.min(ttl, Math.max(0, (token.expireMono - this.#clock.monotonic()) / 1000));
    return Math.floor(ttl);
  }

  create(prefix: string, token: TokenEntry | null, ttlS: number, maxTtlS: number, revoker: () => Promise<void>, stored?: StoredRevoker): Lease {
    const now = this.#clock.monotonic();
    const max = maxTtlS > 0 ? maxTtlS : SYSTEM_MAX_TTL_S;
    let maxExpire = now + max * 1000;
    if (token?.expireMono != null) maxExpire = Math.min(maxExpire, token.expireMono);
    const lease: Lease = {
      id: `${prefix}/${randomBase62(24)}`,
      tokenId: token?.id ?? null,
      issueWall: this.#clock.now(),
      issueMono: now,
      maxExpireMono: maxExpire,
      renewable: true,
      expireMono: Math.min(now + ttlS * 1000, maxExpire),
      lastRenewalWall: null,
      revoker,
      ...(stored ? { stored } : {}),
      revoking: null,
    };
    this.#leases.set(lease.id, lease);
    token?.leases.add(lease.id);
    this.#arm(lease);
    return lease;
  }

  #arm(lease: Lease): void {
    this.#cancel.get(lease.id)?.();
    this.#cancel.set(lease.id, scheduleAt(this.#clock, lease.expireMono, () => {
      this.#cancel.delete(lease.id);
      void this.revoke(lease.id).catch(() => undefined);
    }));
  }

  /** Every lease not yet revoked (the storage file, `LIST sys/leases/lookup/`). */
  all(): Lease[] {
    return [...this.#leases.values()];
  }

  /** Puts back a lease read from the storage file and re-arms its expiry (at once if it is past). */
  restore(lease: Lease): void {
    this.#leases.set(lease.id, lease);
    if (lease.tokenId !== null) this.#tokens.get(lease.tokenId)?.leases.add(lease.id);
    this.#arm(lease);
  }

  get(id: string): Lease | null {
    return this.#leases.get(id) ?? null;
  }

  ttlS(lease: Lease): number {
    return Math.max(0, Math.floor((lease.expireMono - this.#clock.monotonic()) / 1000 + 1e-9));
  }

  lookupData(lease: Lease): Record<string, unknown> {
    return {
      id: lease.id,
      issue_time: rfc3339(lease.issueWall),
      expire_time: rfc3339(this.#clock.now() + (lease.expireMono - this.#clock.monotonic())),
      last_renewal: lease.lastRenewalWall === null ? null : rfc3339(lease.lastRenewalWall),
      renewable: lease.renewable,
      ttl: this.ttlS(lease),
    };
  }

  /** Returns the new TTL and whether it was capped. */
  renew(id: string, incrementS: number): { lease: Lease; ttlS: number; capped: boolean } {
    const lease = this.#leases.get(id);
    if (!lease || lease.revoking) throw badRequest('lease not found');
    if (!lease.renewable) throw badRequest('lease is not renewable');
    const now = this.#clock.monotonic();
    const wanted = now + (incrementS > 0 ? incrementS : Math.max(1, Math.round((lease.expireMono - lease.issueMono) / 1000))) * 1000;
    const next = Math.min(wanted, lease.maxExpireMono);
    lease.expireMono = next;
    lease.lastRenewalWall = this.#clock.now();
    this.#arm(lease);
    return { lease, ttlS: this.ttlS(lease), capped: next < wanted };
  }

  /** Revokes one lease; unknown ids succeed (as in Vault). Rejects when the engine's clean-up failed. */
  revoke(id: string): Promise<void> {
    const lease = this.#leases.get(id);
    if (!lease) return Promise.resolve();
    if (lease.revoking) return lease.revoking;
    this.#cancel.get(id)?.();
    this.#cancel.delete(id);
    const work = lease.revoker().then(
      () => {
        this.#leases.delete(id);
        if (lease.tokenId !== null) this.#tokens.get(lease.tokenId)?.leases.delete(id);
      },
      (err: unknown) => {
        lease.revoking = null;
        this.onRevokeError(id, errorMessage(err));
        this.#cancel.set(id, scheduleAt(this.#clock, this.#clock.monotonic() + RETRY_MS, () => {
          this.#cancel.delete(id);
          void this.revoke(id).catch(() => undefined);
        }));
        throw badRequest(`failed to revoke lease: ${id}`, { cause: err });
      },
    );
    lease.revoking = work;
    this.#pending.add(work);
    void work.catch(() => undefined).finally(() => this.#pending.delete(work));
    return work;
  }

  async revokePrefix(prefix: string): Promise<void> {
    const ids = [...this.#leases.keys()].filter((id) => id.startsWith(prefix));
    await Promise.all(ids.map((id) => this.revoke(id)));
  }

  async revokeForToken(token: TokenEntry): Promise<void> {
    const ids = [...this.#leases.values()].filter((l) => l.tokenId === token.id).map((l) => l.id);
    await Promise.all(ids.map((id) => this.revoke(id)));
  }

  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  clearTimers(): void {
    for (const cancel of this.#cancel.values()) cancel();
    this.#cancel.clear();
  }
}
