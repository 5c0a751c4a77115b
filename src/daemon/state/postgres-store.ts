import { DatabaseError, Pool, type QueryResultRow } from 'pg';
import { type Clock, systemClock } from '../../common/clock.js';
import {
  ConflictError,
  InvalidArgumentError,
  JitgateError,
  NotFoundError,
  UnavailableError,
  errorMessage,
} from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { BreakGlassView, RequestStatus } from '../../model/request.js';
import { migratePostgres } from './postgres-schema.js';
import { SQL, type StatementName as Name } from './postgres-statements.js';
import {
  type ApprovalRow,
  type BreakGlassRow,
  type GrantRow,
  type RequestRow,
  checkInteger,
  decodeApproval,
  decodeBreakGlass,
  decodeGrant,
  decodeRequest,
} from './row-codec.js';
import type { GrantStatus, StateStore, StoredApproval, StoredGrant, StoredRequest } from './store.js';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/db`; the password never appears in errors or logs. */
  readonly url: string;
  /** The password, when the URL has none (`state.password_file`); it wins over one in the URL. */
  readonly password?: string;
  /** Only paces the purge of expired token ids. */
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Pool size. Default 10. */
  readonly maxConnections?: number;
  /** Per-statement and connect timeout: a hung database must deny, not hang the gate. Default 5000. */
  readonly timeoutMs?: number;
  /** Fleet mode: this daemon's node id, written as the owner of its requests and grants. '' on a single host. */
  readonly node?: string;
}

const PURGE_INTERVAL_MS = 60_000;
const PURGE_BATCH = 500;



/** The URL with its password masked, for messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres (unparseable URL)';
  }
}

/** The URL the pool connects with: pg lets a URL's (empty) password override a separate one, so it goes in the URL. */
function connectionUrl(url: string, password: string | undefined): string {
  if (password === undefined || !URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/**
 * Connects, checks the server answers and migrates the schema. Throws UnavailableError naming the
 * database (password masked) when any of that fails.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStateStore> {
  const where = describeUrl(options.url);
  const timeout = options.timeoutMs ?? 5000;
  const pool = new Pool({
    connectionString: connectionUrl(options.url, options.password),
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: timeout,
    statement_timeout: timeout,
    query_timeout: timeout + 1000,
    application_name: 'jitgated',
  });
  // An idle connection dropped by the server must not crash the daemon; the next query fails closed.
  pool.on('error', (err) => {
    options.logger?.warn({ err: errorMessage(err), component: 'state' }, 'postgres connection lost');
  });
  try {
    const client = await pool.connect();
    try {
      await migratePostgres(client, where);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof JitgateError) throw err;
    throw new UnavailableError(`state store ${where}: cannot open: ${errorMessage(err)}`, { cause: err });
  }
  return new PostgresStateStore(pool, options.clock ?? systemClock, options.node ?? '');
}

/** StateStore on a PostgreSQL pool: the same schema and semantics as the SQLite store, for a fleet. */
export class PostgresStateStore implements StateStore {
  readonly #pool: Pool;
  readonly #clock: Clock;
  readonly #node: string;
  #closed = false;
  #lastPurge = Number.NEGATIVE_INFINITY;

  /** Use `openPostgresStore`; this expects a pool on a migrated database. */
  constructor(pool: Pool, clock: Clock, node = '') {
    this.#pool = pool;
    this.#clock = clock;
    this.#node = node;
  }

  /** The pool, for the fleet's own statements (fleet/): one set of connections per daemon. */
  get pool(): Pool {
    return this.#pool;
  }

  /** This daemon's node id ('' on a single host). */
  get node(): string {
    return this.#node;
  }

  insertRequest(request: StoredRequest): Promise<void> {
    return this.#run('insert request', async () => {
      await this.#query('insertRequest', [
        request.id,
        request.resource,
        request.reason,
        JSON.stringify(request.context),
        JSON.stringify(request.claimed),
        checkInteger('ttlMs', request.ttlMs),
        request.status,
        request.statusReason ?? null,
        request.rule,
        request.require === undefined ? null : JSON.stringify(request.require),
        checkInteger('createdAt', request.createdAt),
        checkInteger('expiresAt', request.expiresAt),
        checkInteger('updatedAt', request.updatedAt),
        this.#node,
      ]);
    });
  }

  transitionRequest(
    id: string,
    from: readonly RequestStatus[],
    patch: { readonly status: RequestStatus; readonly statusReason?: string; readonly updatedAt: number },
  ): Promise<boolean> {
    return this.#run('transition request', async () => {
      const result = await this.#query('transitionRequest', [
        id,
        patch.status,
        patch.statusReason ?? null,
        checkInteger('updatedAt', patch.updatedAt),
        [...from],
      ]);
      return result.rowCount === 1;
    });
  }

  getRequest(id: string): Promise<StoredRequest | undefined> {
    return this.#run('get request', async () => {
      const { rows } = await this.#query<RequestRow>('getRequest', [id]);
      const row = rows[0];
      return row === undefined ? undefined : decodeRequest(row);
    });
  }

  listRequests(filter: { readonly statuses?: readonly RequestStatus[]; readonly limit?: number; readonly own?: boolean }): Promise<StoredRequest[]> {
    return this.#run('list requests', async () => {
      const limit = filter.limit === undefined ? null : checkLimit(filter.limit);
      const statuses = filter.statuses ?? ['pending', 'approved', 'granted', 'released', 'denied', 'expired'];
      const { rows } =
        filter.own === true
          ? await this.#query<RequestRow>('listOwnRequestsByStatus', [[...statuses], limit, this.#node])
          : filter.statuses === undefined
            ? await this.#query<RequestRow>('listRequests', [limit])
            : await this.#query<RequestRow>('listRequestsByStatus', [[...filter.statuses], limit]);
      return rows.map(decodeRequest);
    });
  }

  countRequests(statuses: readonly RequestStatus[]): Promise<number> {
    return this.#run('count requests', async () => {
      const { rows } = await this.#query<{ n: string }>('countRequests', [[...statuses]]);
      return Number(rows[0]?.n ?? 0);
    });
  }

  addApproval(approval: StoredApproval): Promise<boolean> {
    return this.#run('add approval', async () => {
      const result = await this.#query('addApproval', [
        approval.requestId,
        approval.subject,
        approval.name,
        approval.trust,
        approval.decision,
        approval.comment ?? null,
        checkInteger('at', approval.at),
        approval.channel,
        this.#node,
        approval.groups === undefined ? null : JSON.stringify(approval.groups),
      ]);
      return result.rowCount === 1;
    });
  }

  listApprovals(requestId: string): Promise<StoredApproval[]> {
    return this.#run('list approvals', async () => {
      const { rows } = await this.#query<ApprovalRow>('listApprovals', [requestId]);
      return rows.map(decodeApproval);
    });
  }

  recordBreakGlass(requestId: string, record: BreakGlassView): Promise<void> {
    return this.#run('record break-glass', async () => {
      await this.#query('insertBreakGlass', [requestId, JSON.stringify(record)]);
    });
  }

  reviewBreakGlass(requestId: string, record: BreakGlassView): Promise<boolean> {
    return this.#run('review break-glass', async () => (await this.#query('reviewBreakGlass', [requestId, JSON.stringify(record)])).rowCount === 1);
  }

  getBreakGlass(requestId: string): Promise<BreakGlassView | undefined> {
    return this.#run('get break-glass', async () => {
      const row = (await this.#query<BreakGlassRow>('getBreakGlass', [requestId])).rows[0];
      return row === undefined ? undefined : decodeBreakGlass(row);
    });
  }

  listBreakGlass(filter: { readonly unreviewed: boolean }): Promise<Map<string, BreakGlassView>> {
    return this.#run('list break-glass', async () => {
      const { rows } = await this.#query<BreakGlassRow>('listBreakGlass', [!filter.unreviewed]);
      return new Map(rows.map((row) => [row.request_id, decodeBreakGlass(row)]));
    });
  }

  insertGrant(grant: StoredGrant): Promise<void> {
    return this.#run('insert grant', async () => {
      await this.#query('insertGrant', [
        grant.id,
        grant.requestId,
        grant.resource,
        grant.accessor,
        JSON.stringify(grant.leaseIds),
        grant.status,
        checkInteger('createdAt', grant.createdAt),
        checkInteger('expiresAt', grant.expiresAt),
        checkInteger('updatedAt', grant.updatedAt),
        this.#node,
      ]);
    });
  }

  updateGrant(
    id: string,
    patch: Partial<Pick<StoredGrant, 'accessor' | 'leaseIds' | 'status' | 'expiresAt'>> & { readonly updatedAt: number },
  ): Promise<void> {
    return this.#run('update grant', async () => {
      const result = await this.#query('updateGrant', [
        id,
        patch.accessor !== undefined,
        patch.accessor ?? null,
        patch.leaseIds === undefined ? null : JSON.stringify(patch.leaseIds),
        patch.status ?? null,
        patch.expiresAt === undefined ? null : checkInteger('expiresAt', patch.expiresAt),
        checkInteger('updatedAt', patch.updatedAt),
      ]);
      if (result.rowCount !== 1) throw new NotFoundError(`grant ${id} not found`);
    });
  }

  getGrant(id: string): Promise<StoredGrant | undefined> {
    return this.#run('get grant', async () => {
      const { rows } = await this.#query<GrantRow>('getGrant', [id]);
      const row = rows[0];
      return row === undefined ? undefined : decodeGrant(row);
    });
  }

  listGrants(statuses: readonly GrantStatus[]): Promise<StoredGrant[]> {
    return this.#run('list grants', async () => {
      const { rows } = await this.#query<GrantRow>('listGrants', [[...statuses], this.#node]);
      return rows.map(decodeGrant);
    });
  }

  rememberTokenId(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#run('remember token id', async () => {
      checkInteger('expiresAt', expiresAt);
      checkInteger('now', now);
      await this.#purgeExpiredTokenIds(now);
      const result = await this.#query('rememberTokenId', [issuer, jti, expiresAt, now]);
      return result.rowCount === 1;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #purgeExpiredTokenIds(now: number): Promise<void> {
    const mono = this.#clock.monotonic();
    if (mono - this.#lastPurge < PURGE_INTERVAL_MS) return;
    // Claim the interval before awaiting so concurrent calls do not all purge.
    this.#lastPurge = mono;
    const result = await this.#query('purgeTokenIds', [now, PURGE_BATCH]);
    if ((result.rowCount ?? 0) >= PURGE_BATCH) this.#lastPurge = Number.NEGATIVE_INFINITY;
  }

  #query<R extends QueryResultRow = QueryResultRow>(name: Name, values: unknown[]) {
    if (this.#closed) throw new UnavailableError('state store: closed');
    return this.#pool.query<R>({ name: `jitgate_${name}`, text: SQL[name], values });
  }

  async #run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw mapError(operation, err);
    }
  }
}

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError('limit', 'must be a non-negative integer');
  return limit;
}

/**
 * Constraint violations get precise classes; anything else is an unavailable store. Only the
 * server's primary message is kept: its `detail` field quotes the offending values.
 */
function mapError(operation: string, err: unknown): Error {
  if (err instanceof JitgateError) return err;
  if (err instanceof DatabaseError) {
    if (err.code === '23505') return new ConflictError(`state store: ${operation}: already exists`, { cause: err });
    if (err.code === '23503') return new NotFoundError(`state store: ${operation}: request not found`, { cause: err });
  }
  return new UnavailableError(`state store: ${operation} failed: ${errorMessage(err)}`, { cause: err });
}
