import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Clock } from './clock.js';
import type { DatabaseEngine, StoredDatabase } from './database.js';
import type { Lease, LeaseManager, StoredRevoker } from './leases.js';
import type { PolicyStore } from './policies.js';
import type { TokenEntry, TokenStore } from './tokens.js';

/**
 * The `--storage FILE` option: the server's tokens, leases, ACL policies and database engine
 * settings as one JSON file, so a server killed with SIGKILL and started again on the same file
 * still knows (and still revokes, on time) every credential it handed out. Times are kept as wall
 * clock (the monotonic clock starts again with the process). Not kept: KV data, AppRole/JWT
 * settings, token roles, extra mounts, response-wrapped replies; the README says so.
 */
interface StoredToken {
  id: string;
  accessor: string;
  policies: string[];
  parentId: string | null;
  children: string[];
  orphan: boolean;
  path: string;
  displayName: string;
  meta: Record<string, string> | null;
  creationWall: number;
  creationTtlS: number;
  explicitMaxTtlS: number;
  maxExpireWall: number | null;
  renewable: boolean;
  numUses: number;
  expireWall: number | null;
  lastRenewalWall: number | null;
}

interface StoredLease {
  id: string;
  tokenId: string | null;
  issueWall: number;
  maxExpireWall: number;
  renewable: boolean;
  expireWall: number;
  lastRenewalWall: number | null;
  revoker: StoredRevoker;
}

interface StoredState {
  version: number;
  rootToken: string;
  tokens: StoredToken[];
  leases: StoredLease[];
  policies: { name: string; text: string }[];
  database: StoredDatabase;
}

export interface StorageParts {
  readonly clock: Clock;
  readonly tokens: TokenStore;
  readonly leases: LeaseManager;
  readonly policies: PolicyStore;
  readonly database: DatabaseEngine;
}

/** Keeps the state in `file`: `save()` writes it (atomically, fsync'd) when it changed. */
export class StateFile {
  #last = '';

  /** The root token a storage file was written with, so a restart keeps it; null if there is no file. */
  static rootToken(file: string): string | null {
    if (!existsSync(file)) return null;
    return (JSON.parse(readFileSync(file, 'utf8')) as StoredState).rootToken;
  }

  constructor(
    readonly file: string,
    private readonly parts: StorageParts,
    private readonly rootTokenId: string,
  ) {}

  /** Loads the file if there is one (a first start has none). */
  load(): void {
    if (!existsSync(this.file)) return;
    const text = readFileSync(this.file, 'utf8');
    const state = JSON.parse(text) as StoredState;
    if (state.version !== 1) throw new Error(`storage file ${this.file}: unknown version ${String(state.version)}`);
    const { clock, tokens, leases, policies, database } = this.parts;
    const toMono = (wall: number): number => clock.monotonic() + (wall - clock.now());
    for (const p of state.policies) policies.put(p.name, p.text);
    database.restoreSettings(state.database);
    for (const t of state.tokens) tokens.restore(restoredToken(t, toMono));
    for (const l of state.leases) {
      const lease: Lease = {
        id: l.id,
        tokenId: l.tokenId,
        issueWall: l.issueWall,
        issueMono: toMono(l.issueWall),
        maxExpireMono: toMono(l.maxExpireWall),
        renewable: l.renewable,
        expireMono: toMono(l.expireWall),
        lastRenewalWall: l.lastRenewalWall,
        revoker: database.revokerFor(l.revoker),
        stored: l.revoker,
        revoking: null,
      };
      leases.restore(lease);
    }
    this.#last = text;
  }

  /** Writes the state if it changed since the last write; returns before the reply goes out. */
  save(): void {
    const text = JSON.stringify(this.#snapshot());
    if (text === this.#last) return;
    const temp = `${this.file}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    this.#last = text;
  }

  #snapshot(): StoredState {
    const { clock, tokens, leases, policies, database } = this.parts;
    const toWall = (mono: number): number => clock.now() + (mono - clock.monotonic());
    return {
      version: 1,
      rootToken: this.rootTokenId,
      tokens: tokens.all().filter((t) => !t.wrapped).map((t) => storedToken(t, toWall)),
      leases: leases.all().flatMap((l) =>
        l.stored
          ? [{ id: l.id, tokenId: l.tokenId, issueWall: l.issueWall, maxExpireWall: toWall(l.maxExpireMono), renewable: l.renewable, expireWall: toWall(l.expireMono), lastRenewalWall: l.lastRenewalWall, revoker: l.stored }]
          : [],
      ),
      policies: policies.written(),
      database: database.exportSettings(),
    };
  }
}

function storedToken(t: TokenEntry, toWall: (mono: number) => number): StoredToken {
  return {
    id: t.id,
    accessor: t.accessor,
    policies: [...t.policies],
    parentId: t.parentId,
    children: [...t.children],
    orphan: t.orphan,
    path: t.path,
    displayName: t.displayName,
    meta: t.meta === null ? null : { ...t.meta },
    creationWall: t.creationWall,
    creationTtlS: t.creationTtlS,
    explicitMaxTtlS: t.explicitMaxTtlS,
    maxExpireWall: t.maxExpireMono === null ? null : toWall(t.maxExpireMono),
    renewable: t.renewable,
    numUses: t.numUses,
    expireWall: t.expireMono === null ? null : toWall(t.expireMono),
    lastRenewalWall: t.lastRenewalWall,
  };
}

function restoredToken(t: StoredToken, toMono: (wall: number) => number): TokenEntry {
  return {
    id: t.id,
    accessor: t.accessor,
    policies: t.policies,
    parentId: t.parentId,
    children: new Set(t.children),
    leases: new Set(),
    orphan: t.orphan,
    path: t.path,
    displayName: t.displayName,
    meta: t.meta,
    creationWall: t.creationWall,
    creationMono: toMono(t.creationWall),
    creationTtlS: t.creationTtlS,
    explicitMaxTtlS: t.explicitMaxTtlS,
    maxExpireMono: t.maxExpireWall === null ? null : toMono(t.maxExpireWall),
    renewable: t.renewable,
    numUses: t.numUses,
    expireMono: t.expireWall === null ? null : toMono(t.expireWall),
    lastRenewalWall: t.lastRenewalWall,
    revoked: false,
  };
}
