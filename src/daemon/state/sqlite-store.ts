import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { type Clock, systemClock } from '../../common/clock.js';
import { JitgateError, NotFoundError, UnavailableError, errorMessage } from '../../common/errors.js';
import type { BreakGlassView, RequestStatus } from '../../model/request.js';
import { checkInteger, decodeApproval, decodeBreakGlass, decodeGrant, decodeRequest } from './row-codec.js';
import { checkLimit, mapError } from './sqlite-errors.js';
import { migrateSqlite } from './sqlite-schema.js';
import { prepareStatements, type Statements } from './sqlite-statements.js';
import { WalSync } from './wal-sync.js';
import type { GrantStatus, StateStore, StoredApproval, StoredGrant, StoredRequest } from './store.js';

export interface SqliteStoreOptions {
  /** Database file, or `:memory:` (tests only: nothing survives close). */
  readonly path: string;
  /** Only paces the purge of expired token ids; record times come from the callers. */
  readonly clock?: Clock;
  /** How long a write waits for another connection's lock before failing. Default 5000. */
  readonly busyTimeoutMs?: number;
}

/** Expired token ids are purged at most this often, and at most this many per pass. */
const PURGE_INTERVAL_MS = 60_000;
const PURGE_BATCH = 500;

/** Writes sharing one transaction; their promises settle when it commits. */
interface Batch {
  readonly waiters: { resolve: () => void; reject: (err: Error) => void }[];
}

/**
 * Opens (creating when absent) the SQLite state database: parent directories 0700, file 0600,
 * WAL journal, foreign keys on, schema migrated. Throws UnavailableError naming the path when the
 * file cannot be opened, is not a database, or comes from a newer schema.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStateStore {
  const path = options.path === ':memory:' ? options.path : resolve(options.path);
  let db: Database.Database | undefined;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Create the file ourselves so it is never world-readable, not even for an instant; SQLite
      // gives the -wal and -shm files the database file's mode.
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (path !== ':memory:' && mode !== 'wal') throw new Error(`journal_mode is ${mode}, WAL is required`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = NORMAL');
    // better-sqlite3 builds SQLite with a 16 MB page cache; the daemon's hot pages (pending and live
    // rows, their indexes) fit in far less, and a soak showed that cache filling as finished rows
    // pile up: 4 MB caps the resident share while keeping the working set cached.
    db.pragma('cache_size = -4000');
    migrateSqlite(db, path);
    return new SqliteStateStore(db, options.clock ?? systemClock, path === ':memory:' ? null : `${path}-wal`);
  } catch (err) {
    db?.close();
    if (err instanceof JitgateError) throw err;
    throw new UnavailableError(`state store ${path}: cannot open: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * StateStore on one SQLite connection. better-sqlite3 is synchronous, so each method does its
 * work at call time and returns a settled promise: two calls never interleave inside a statement,
 * and the compare-and-set in `transitionRequest` is a single UPDATE.
 *
 * Durability (the trade-off, chosen for throughput): every write runs at `synchronous = NORMAL` in WAL
 * mode. A commit is then in the WAL file (the OS page cache) when the call returns, so it survives
 * a crash or SIGKILL of the daemon: that is the case the start-up sweep relies on (a grant row with
 * its Vault accessor is there to revoke). It is not fsynced, so a power loss or kernel crash can
 * lose the last moments of commits; an fsync per grant used to block the event loop (better-sqlite3
 * is synchronous) for ~13% of the daemon's time. On power loss a lost accessor means the restart
 * sweep cannot revoke that token: it dies at its TTL (seconds, never above the resource's max_ttl),
 * and its leases with it. The audit log (fsynced, group-committed) still holds the grant's record.
 * A lost pending request, approval or "revoked" mark fails closed (asked again, revoked again).
 *
 * The one exception is a token id (`rememberTokenId`): losing it would reopen a replay. Its promise
 * resolves only after an fdatasync of the WAL file, done on the libuv thread pool (the loop keeps
 * running) and shared by every caller waiting at the time. Checkpoints need no help: in NORMAL
 * mode SQLite syncs the WAL before and the database after each one.
 */
export class SqliteStateStore implements StateStore {
  /** One connection; a turn's writes are one transaction, in the order issued. */
  readonly ordersWrites = true;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #sql: Statements;
  readonly #wal: WalSync;
  #lastPurge = Number.NEGATIVE_INFINITY;
  #batch: Batch | undefined;

  /**
   * Use `openSqliteStore`; this expects an opened, migrated connection. `walFile` is the database's
   * `-wal` file, fsynced for writes that must survive power loss; null (`:memory:`) skips that.
   */
  constructor(db: Database.Database, clock: Clock, walFile: string | null = null) {
    this.#db = db;
    this.#clock = clock;
    this.#wal = new WalSync(walFile);
    this.#sql = prepareStatements(db);
  }

  insertRequest(request: StoredRequest): Promise<void> {
    return this.#run('insert request', () => {
      this.#sql.insertRequest.run({
        id: request.id,
        resource: request.resource,
        reason: request.reason,
        context: JSON.stringify(request.context),
        claimed: JSON.stringify(request.claimed),
        ttlMs: checkInteger('ttlMs', request.ttlMs),
        status: request.status,
        statusReason: request.statusReason ?? null,
        rule: request.rule,
        require: request.require === undefined ? null : JSON.stringify(request.require),
        createdAt: checkInteger('createdAt', request.createdAt),
        expiresAt: checkInteger('expiresAt', request.expiresAt),
        updatedAt: checkInteger('updatedAt', request.updatedAt),
      });
    }, true);
  }

  transitionRequest(
    id: string,
    from: readonly RequestStatus[],
    patch: { readonly status: RequestStatus; readonly statusReason?: string; readonly updatedAt: number },
  ): Promise<boolean> {
    return this.#run('transition request', () => {
      const result = this.#sql.transitionRequest.run({
        id,
        from: JSON.stringify(from),
        status: patch.status,
        statusReason: patch.statusReason ?? null,
        updatedAt: checkInteger('updatedAt', patch.updatedAt),
      });
      return result.changes === 1;
    }, true);
  }

  getRequest(id: string): Promise<StoredRequest | undefined> {
    return this.#run('get request', () => {
      const row = this.#sql.getRequest.get(id);
      return row === undefined ? undefined : decodeRequest(row);
    });
  }

  listRequests(filter: { readonly statuses?: readonly RequestStatus[]; readonly limit?: number }): Promise<StoredRequest[]> {
    return this.#run('list requests', () => {
      // SQLite reads a negative LIMIT as "no limit".
      const limit = filter.limit === undefined ? -1 : checkLimit(filter.limit);
      const rows =
        filter.statuses === undefined
          ? this.#sql.listRequests.all({ limit })
          : this.#sql.listRequestsByStatus.all({ statuses: JSON.stringify(filter.statuses), limit });
      return rows.map(decodeRequest);
    });
  }

  countRequests(statuses: readonly RequestStatus[]): Promise<number> {
    return this.#run('count requests', () => this.#sql.countRequests.get(JSON.stringify(statuses)) ?? 0);
  }

  addApproval(approval: StoredApproval): Promise<boolean> {
    return this.#run('add approval', () => {
      const result = this.#sql.addApproval.run({
        requestId: approval.requestId,
        subject: approval.subject,
        name: approval.name,
        trust: approval.trust,
        decision: approval.decision,
        comment: approval.comment ?? null,
        at: checkInteger('at', approval.at),
        channel: approval.channel,
      });
      return result.changes === 1;
    }, true);
  }

  listApprovals(requestId: string): Promise<StoredApproval[]> {
    return this.#run('list approvals', () => this.#sql.listApprovals.all(requestId).map(decodeApproval));
  }

  recordBreakGlass(requestId: string, record: BreakGlassView): Promise<void> {
    return this.#run('record break-glass', () => {
      this.#sql.insertBreakGlass.run({ requestId, record: JSON.stringify(record) });
    }, true);
  }

  reviewBreakGlass(requestId: string, record: BreakGlassView): Promise<boolean> {
    return this.#run('review break-glass', () => this.#sql.reviewBreakGlass.run({ requestId, record: JSON.stringify(record) }).changes === 1, true);
  }

  getBreakGlass(requestId: string): Promise<BreakGlassView | undefined> {
    return this.#run('get break-glass', () => {
      const row = this.#sql.getBreakGlass.get(requestId);
      return row === undefined ? undefined : decodeBreakGlass(row);
    });
  }

  listBreakGlass(filter: { readonly unreviewed: boolean }): Promise<Map<string, BreakGlassView>> {
    return this.#run('list break-glass', () => new Map(this.#sql.listBreakGlass.all({ all: filter.unreviewed ? 0 : 1 }).map((row) => [row.request_id, decodeBreakGlass(row)])));
  }

  insertGrant(grant: StoredGrant): Promise<void> {
    return this.#run('insert grant', () => {
      this.#sql.insertGrant.run({
          id: grant.id,
          requestId: grant.requestId,
          resource: grant.resource,
          accessor: grant.accessor,
          leaseIds: JSON.stringify(grant.leaseIds),
          status: grant.status,
          createdAt: checkInteger('createdAt', grant.createdAt),
          expiresAt: checkInteger('expiresAt', grant.expiresAt),
          updatedAt: checkInteger('updatedAt', grant.updatedAt),
        });
    }, true);
  }

  updateGrant(
    id: string,
    patch: Partial<Pick<StoredGrant, 'accessor' | 'leaseIds' | 'status' | 'expiresAt'>> & { readonly updatedAt: number },
  ): Promise<void> {
    return this.#run('update grant', () => {
      const result = this.#sql.updateGrant.run({
          id,
          setAccessor: patch.accessor === undefined ? 0 : 1,
          accessor: patch.accessor ?? null,
          leaseIds: patch.leaseIds === undefined ? null : JSON.stringify(patch.leaseIds),
          status: patch.status ?? null,
          expiresAt: patch.expiresAt === undefined ? null : checkInteger('expiresAt', patch.expiresAt),
          updatedAt: checkInteger('updatedAt', patch.updatedAt),
        });
      if (result.changes !== 1) throw new NotFoundError(`grant ${id} not found`);
    }, true);
  }

  getGrant(id: string): Promise<StoredGrant | undefined> {
    return this.#run('get grant', () => {
      const row = this.#sql.getGrant.get(id);
      return row === undefined ? undefined : decodeGrant(row);
    });
  }

  listGrants(statuses: readonly GrantStatus[]): Promise<StoredGrant[]> {
    return this.#run('list grants', () => this.#sql.listGrants.all(JSON.stringify(statuses)).map(decodeGrant));
  }

  rememberTokenId(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    const recorded = this.#run('remember token id', () => {
      checkInteger('expiresAt', expiresAt);
      checkInteger('now', now);
      this.#purgeExpiredTokenIds(now);
      const result = this.#sql.rememberTokenId.run({ issuer, jti, expiresAt, now });
      return result.changes === 1;
    }, true);
    return recorded.then(async (fresh) => {
      if (fresh) await this.#wal.durable();
      return fresh;
    });
  }

  async close(): Promise<void> {
    if (this.#batch) this.#commit(this.#batch);
    await this.#wal.close();
    return this.#run('close', () => {
      if (this.#db.open) this.#db.close();
    });
  }

  /** Keeps the replay cache bounded without a timer: a bounded batch, at most once per interval. */
  #purgeExpiredTokenIds(now: number): void {
    const mono = this.#clock.monotonic();
    if (mono - this.#lastPurge < PURGE_INTERVAL_MS) return;
    const { changes } = this.#sql.purgeTokenIds.run({ now, limit: PURGE_BATCH });
    // A full batch means more are waiting: leave the interval open so the next call continues.
    if (changes < PURGE_BATCH) this.#lastPurge = mono;
  }

  /**
   * Runs `work` now (better-sqlite3 is synchronous). Writes join the open batch: one transaction
   * for every write issued in the same turn of the event loop, committed at `setImmediate`. A
   * promise settles only once its batch is committed (reads issued during a batch wait for it too,
   * so nobody acts on a row that is not yet in the WAL): a settled write is in the WAL file exactly
   * as before, so process-crash durability is unchanged, but N concurrent grants cost one WAL
   * commit instead of N, and the loop stops paying a page write per statement.
   */
  #run<T>(operation: string, work: () => T, write = false): Promise<T> {
    let batch = this.#batch;
    try {
      if (write && !batch && this.#db.open && !this.#db.inTransaction) {
        this.#db.exec('BEGIN IMMEDIATE');
        batch = { waiters: [] };
        this.#batch = batch;
        const opened = batch;
        setImmediate(() => {
          this.#commit(opened);
        });
      }
    } catch (err) {
      return Promise.reject(mapError(operation, err));
    }
    let value: T;
    try {
      value = work();
    } catch (err) {
      // Some errors (I/O, full disk) roll the whole transaction back: every write of the batch is
      // lost, so every waiter fails, now, before later writes slip in outside a transaction.
      if (batch && this.#batch === batch && !this.#db.inTransaction) this.#fail(batch, err);
      return Promise.reject(mapError(operation, err));
    }
    if (!batch || this.#batch !== batch) return Promise.resolve(value);
    const waiting = batch;
    return new Promise<T>((resolve, reject) => {
      waiting.waiters.push({ resolve: () => { resolve(value); }, reject });
    });
  }

  #commit(batch: Batch): void {
    if (this.#batch !== batch) return;
    this.#batch = undefined;
    try {
      if (!this.#db.inTransaction) throw new Error('the transaction was rolled back');
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#fail(batch, err);
      return;
    }
    for (const waiter of batch.waiters) waiter.resolve();
  }

  #fail(batch: Batch, err: unknown): void {
    if (this.#batch === batch) this.#batch = undefined;
    try {
      if (this.#db.open && this.#db.inTransaction) this.#db.exec('ROLLBACK');
    } catch {
      // The connection is unusable either way; the waiters learn it below.
    }
    const failure = mapError('commit', err);
    for (const waiter of batch.waiters) waiter.reject(failure);
  }
}
