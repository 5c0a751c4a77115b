import type { Clock } from './clock.js';
import { newAccessor, newTokenId } from './ids.js';
import { rfc3339, SYSTEM_MAX_TTL_S } from './input.js';
import { scheduleAt } from './timers.js';

export interface TokenEntry {
  readonly id: string;
  readonly accessor: string;
  readonly policies: readonly string[];
  parentId: string | null;
  readonly children: Set<string>;
  readonly leases: Set<string>;
  orphan: boolean;
  readonly path: string;
  readonly displayName: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly creationWall: number;
  readonly creationMono: number;
  readonly creationTtlS: number;
  readonly explicitMaxTtlS: number;
  /** Renewals never go past this (explicit max, role max, system max); null = no limit (root). */
  readonly maxExpireMono: number | null;
  readonly renewable: boolean;
  /** Remaining uses; 0 = unlimited. */
  numUses: number;
  /** null = never expires. */
  expireMono: number | null;
  lastRenewalWall: number | null;
  /** For response-wrapping tokens: the response they hold. */
  readonly wrapped?: { readonly body: Readonly<Record<string, unknown>>; readonly creationPath: string };
  revoked: boolean;
}

export interface NewToken {
  policies: readonly string[];
  parent: TokenEntry | null;
  /** 0 = no expiry (only meaningful for root-policy tokens). */
  ttlS: number;
  explicitMaxTtlS: number;
  /** Extra renewal cap (e.g. an auth role's token_max_ttl); 0 = none. */
  maxTtlS: number;
  numUses: number;
  renewable: boolean;
  meta: Readonly<Record<string, string>> | null;
  displayName: string;
  path: string;
  id?: string;
  wrapped?: TokenEntry['wrapped'];
}

/**
 * Tokens with their parent/child tree, expiring by timers on the injected clock. Revocation marks
 * the whole subtree dead at once (so no request can use it), then revokes leases via `revokeLeases`.
 */
export class TokenStore {
  readonly #clock: Clock;
  readonly #byId = new Map<string, TokenEntry>();
  readonly #byAccessor = new Map<string, TokenEntry>();
  readonly #cancel = new Map<string, () => void>();
  readonly #pending = new Set<Promise<void>>();
  revokeLeases: (token: TokenEntry) => Promise<void> = () => Promise.resolve();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  create(spec: NewToken): TokenEntry {
    const now = this.#clock.monotonic();
    const caps = [spec.explicitMaxTtlS, spec.maxTtlS].filter((v) => v > 0);
    const isRoot = spec.policies.includes('root');
    if (!isRoot) caps.push(SYSTEM_MAX_TTL_S);
    const maxS = caps.length ? Math.min(...caps) : null;
    let ttlS = spec.ttlS;
    if (ttlS === 0 && !isRoot) ttlS = SYSTEM_MAX_TTL_S;
    if (maxS !== null && (ttlS === 0 || ttlS > maxS)) ttlS = maxS;
    const entry: TokenEntry = {
      id: spec.id ?? newTokenId(),
      accessor: newAccessor(),
      policies: [...spec.policies],
      parentId: spec.parent?.id ?? null,
      children: new Set(),
      leases: new Set(),
      orphan: spec.parent === null,
      path: spec.path,
      displayName: spec.displayName,
      meta: spec.meta,
      creationWall: this.#clock.now(),
      creationMono: now,
      creationTtlS: ttlS,
      explicitMaxTtlS: spec.explicitMaxTtlS,
      maxExpireMono: maxS === null ? null : now + maxS * 1000,
      renewable: spec.renewable,
      numUses: spec.numUses,
      expireMono: ttlS > 0 ? now + ttlS * 1000 : null,
      lastRenewalWall: null,
      ...(spec.wrapped ? { wrapped: spec.wrapped } : {}),
      revoked: false,
    };
    spec.parent?.children.add(entry.id);
    this.#byId.set(entry.id, entry);
    this.#byAccessor.set(entry.accessor, entry);
    this.#arm(entry);
    return entry;
  }

  #arm(entry: TokenEntry): void {
    this.#cancel.get(entry.id)?.();
    this.#cancel.delete(entry.id);
    if (entry.expireMono === null) return;
    this.#cancel.set(entry.id, scheduleAt(this.#clock, entry.expireMono, () => {
      this.#cancel.delete(entry.id);
      void this.revoke(entry);
    }));
  }

  /** Every live token (the storage file, `auth/token/accessors`). */
  all(): TokenEntry[] {
    return [...this.#byId.values()].filter((e) => !e.revoked);
  }

  /**
   * Puts back a token read from the storage file and re-arms its expiry (at once if it is past).
   * A token already here (the root token, made anew at start) keeps its entry and takes the
   * stored children.
   */
  restore(entry: TokenEntry): void {
    const existing = this.#byId.get(entry.id);
    if (existing) {
      for (const child of entry.children) existing.children.add(child);
      return;
    }
    this.#byId.set(entry.id, entry);
    this.#byAccessor.set(entry.accessor, entry);
    this.#arm(entry);
  }

  /** A live token, or null. A token found past its expiry is revoked on the spot. */
  get(id: string): TokenEntry | null {
    return this.#live(this.#byId.get(id));
  }

  byAccessor(accessor: string): TokenEntry | null {
    return this.#live(this.#byAccessor.get(accessor));
  }

  #live(entry: TokenEntry | undefined): TokenEntry | null {
    if (!entry || entry.revoked) return null;
    if (entry.expireMono !== null && entry.expireMono <= this.#clock.monotonic()) {
      void this.revoke(entry);
      return null;
    }
    return entry;
  }

  remainingS(entry: TokenEntry): number {
    if (entry.expireMono === null) return 0;
    return Math.max(0, Math.floor((entry.expireMono - this.#clock.monotonic()) / 1000 + 1e-9));
  }

  expireWall(entry: TokenEntry): number | null {
    if (entry.expireMono === null) return null;
    return this.#clock.now() + (entry.expireMono - this.#clock.monotonic());
  }

  /** Extends the TTL by `incrementS` from now (default: the creation TTL), capped at the token's max. */
  renew(entry: TokenEntry, incrementS: number): void {
    if (entry.expireMono === null) return;
    const now = this.#clock.monotonic();
    let next = now + (incrementS > 0 ? incrementS : entry.creationTtlS) * 1000;
    if (entry.maxExpireMono !== null) next = Math.min(next, entry.maxExpireMono);
    entry.expireMono = next;
    entry.lastRenewalWall = this.#clock.now();
    this.#arm(entry);
  }

  /**
   * Revokes `entry`, its leases and (unless `orphanChildren`) its non-orphan descendants.
   * Tokens die synchronously; the promise settles when their leases are revoked.
   */
  revoke(entry: TokenEntry, orphanChildren = false): Promise<void> {
    const doomed: TokenEntry[] = [];
    const collect = (e: TokenEntry): void => {
      if (e.revoked) return;
      e.revoked = true;
      doomed.push(e);
      this.#cancel.get(e.id)?.();
      this.#cancel.delete(e.id);
      this.#byId.delete(e.id);
      this.#byAccessor.delete(e.accessor);
      if (e.parentId !== null) this.#byId.get(e.parentId)?.children.delete(e.id);
      for (const childId of e.children) {
        const child = this.#byId.get(childId);
        if (!child) continue;
        if (orphanChildren && e === entry) {
          // Vault's revoke-orphan: children survive as orphans.
          child.parentId = null;
          child.orphan = true;
        } else {
          collect(child);
        }
      }
    };
    collect(entry);
    const work = Promise.allSettled(doomed.map((e) => this.revokeLeases(e))).then(() => undefined);
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
    return work;
  }

  /** Resolves when every revocation started so far has finished. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Vault's token lookup `data`. */
  lookupData(entry: TokenEntry): Record<string, unknown> {
    const expire = this.expireWall(entry);
    return {
      accessor: entry.accessor,
      creation_time: Math.floor(entry.creationWall / 1000),
      creation_ttl: entry.creationTtlS,
      display_name: entry.displayName,
      entity_id: '',
      expire_time: expire === null ? null : rfc3339(expire),
      explicit_max_ttl: entry.explicitMaxTtlS,
      id: entry.id,
      ...(entry.lastRenewalWall !== null ? { last_renewal: rfc3339(entry.lastRenewalWall), last_renewal_time: Math.floor(entry.lastRenewalWall / 1000) } : {}),
      issue_time: rfc3339(entry.creationWall),
      meta: entry.meta,
      num_uses: entry.numUses,
      orphan: entry.orphan,
      path: entry.path,
      policies: [...entry.policies],
      renewable: entry.renewable,
      ttl: this.remainingS(entry),
      type: 'service',
    };
  }

  /** Vault's `auth` block for a created/renewed/logged-in token. */
  authBlock(entry: TokenEntry): Record<string, unknown> {
    return {
      client_token: entry.id,
      accessor: entry.accessor,
      policies: [...entry.policies],
      token_policies: [...entry.policies],
      metadata: entry.meta,
      // The TTL just granted, not a truncated countdown (time has moved by microseconds).
      lease_duration: entry.expireMono === null ? 0 : Math.max(0, Math.round((entry.expireMono - this.#clock.monotonic()) / 1000)),
      renewable: entry.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: entry.orphan,
      mfa_requirement: null,
      num_uses: entry.numUses,
    };
  }

  /** Drops every timer (server shutdown). */
  clearTimers(): void {
    for (const cancel of this.#cancel.values()) cancel();
    this.#cancel.clear();
  }
}
