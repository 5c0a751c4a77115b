import type pg from 'pg';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Broker } from '../vault/broker.js';
import { DB_NOW_MS } from './heartbeat.js';
import { endOrphanedRequests, notifyChange } from './orphaned-requests.js';

/** Arbitrary constant: the advisory lock that makes one daemon of the fleet the sweeper at a time. */
export const SWEEPER_LOCK = 0x6a697473; // "jits"
export const OWNER_LOST = 'owner lost';
/** A revocation the sweeper started (or that failed) is retried after this long. */
const RETRY_AFTER_MS = 30_000;
const BATCH = 100;

// Compare-and-set: only a node still alive in the row and past the timeout is declared dead, once.
const MARK_DEAD = `
  UPDATE nodes SET dead_at = ${DB_NOW_MS}
   WHERE id <> $1 AND dead_at IS NULL AND heartbeat_at < ${DB_NOW_MS} - $2
  RETURNING id, heartbeat_at, dead_at`;
// Grants of a dead node from before it was declared dead (a node that rejoined owns its new ones).
// A revocation in flight (`revoking`) or failed is the node's own until its death, then retried.
const ORPHANED_GRANTS = `
  SELECT g.id, g.request_id, g.accessor, g.lease_ids, g.status, g.updated_at, g.owner_node
    FROM grants g JOIN nodes n ON n.id = g.owner_node
   WHERE n.dead_at IS NOT NULL AND n.id <> $1 AND g.created_at <= n.dead_at
     AND (g.status IN ('minting','live')
          OR (g.status IN ('revoking','revoke_failed') AND (g.updated_at <= n.dead_at OR g.updated_at < $2)))
   ORDER BY g.created_at, g.seq LIMIT ${String(BATCH)}`;
// Claimed by compare-and-set on status and updated_at: of two sweepers that read the same row, one wins.
const CLAIM_GRANT = `UPDATE grants SET status = 'revoking', updated_at = $4 WHERE id = $1 AND status = $2 AND updated_at = $3`;
const FINISH_GRANT = `UPDATE grants SET status = $2, updated_at = $3 WHERE id = $1 AND status = 'revoking'`;

interface GrantRow {
  readonly id: string;
  readonly request_id: string;
  readonly accessor: string | null;
  readonly lease_ids: readonly string[];
  readonly status: string;
  readonly updated_at: string;
  readonly owner_node: string;
}

export interface SweeperOptions {
  readonly pool: pg.Pool;
  readonly node: string;
  readonly broker: Broker;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /**
   * Whether this daemon may judge others now: its own heartbeat and audit are healthy, and have
   * been for a whole timeout (after a database outage every heartbeat is old; the others get a
   * timeout to beat again before anyone is declared dead).
   */
  readonly ready: () => boolean;
}

/**
 * The fleet sweeper. Every daemon runs one; per sweep, `pg_try_advisory_xact_lock` picks at most
 * one to act, so a hung or killed sweeper holds the lock no longer than its transaction. It
 * declares nodes whose heartbeat lapsed dead, revokes their grants at Vault by accessor and
 * leases, and ends their requests (`owner lost`), each in its own audit log. Every row change is a
 * compare-and-set, so overlapping sweepers cannot act twice on one row.
 */
export class FleetSweeper {
  readonly #o: SweeperOptions;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: SweeperOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#running = this.sweep().finally(() => {
        this.#running = undefined;
        this.start();
      });
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    await this.#running;
  }

  /** One sweep if this daemon is ready and wins the lock; never throws. */
  async sweep(): Promise<void> {
    if (!this.#o.ready()) return;
    let client: pg.PoolClient | undefined;
    let broken: Error | undefined;
    try {
      client = await this.#o.pool.connect();
      await client.query('BEGIN');
      // A sweeper that hangs (a paused process) loses the lock with its session after a timeout.
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${String(Math.max(1000, Math.trunc(this.#o.timeoutMs)))}`);
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEPER_LOCK]);
      if (rows[0]?.locked === true) await this.#sweepLocked();
      await client.query('COMMIT');
    } catch (err) {
      this.#o.logger.error({ err: errorMessage(err) }, 'fleet sweep failed; the next one retries');
      broken = err instanceof Error ? err : new Error(String(err));
      await client?.query('ROLLBACK').catch(() => undefined);
    } finally {
      // A connection the sweep failed on (the server may have ended it) is dropped, not pooled again.
      client?.release(broken);
    }
  }

  async #sweepLocked(): Promise<void> {
    const { pool, node, timeoutMs, audit, logger } = this.#o;
    const dead = await pool.query<{ id: string; heartbeat_at: string; dead_at: string }>(MARK_DEAD, [node, timeoutMs]);
    for (const row of dead.rows) {
      logger.warn({ deadNode: row.id }, 'fleet node missed its heartbeat: declared dead; revoking its grants');
      await audit.settled([
        audit.issue({ type: 'fleet.node_dead', deadNode: row.id, heartbeatAt: Number(row.heartbeat_at), deadAt: Number(row.dead_at), timeoutMs }),
      ]);
    }
    const grants = await pool.query<GrantRow>(ORPHANED_GRANTS, [node, this.#o.clock.now() - RETRY_AFTER_MS]);
    for (const grant of grants.rows) await this.#revoke(grant);
    const ended = await endOrphanedRequests({ pool, node, audit, clock: this.#o.clock, reason: OWNER_LOST });
    for (const id of ended) await notifyChange(pool, node, id);
  }

  /** Intent, revoke, result, as the gate revokes, for a grant whose owner is gone. */
  async #revoke(grant: GrantRow): Promise<void> {
    const { pool, broker, audit, clock, logger } = this.#o;
    const claimed = await pool.query(CLAIM_GRANT, [grant.id, grant.status, grant.updated_at, clock.now()]);
    if (claimed.rowCount !== 1) return; // another sweeper (or the node itself) got there first
    const base = { requestId: grant.request_id, grantId: grant.id, reason: OWNER_LOST, ownerNode: grant.owner_node };
    if (!grant.accessor) {
      await pool.query(FINISH_GRANT, [grant.id, 'revoked', clock.now()]);
      await audit.settled([audit.issue({ type: 'grant.revoke.skipped', ...base, detail: 'no token was recorded; any token expires at its TTL' })]);
      return;
    }
    await audit.settled([audit.issue({ type: 'grant.revoke.intent', ...base, accessorHmac: audit.hmac(grant.accessor) })]);
    try {
      await broker.revoke(grant.accessor, grant.lease_ids);
    } catch (err) {
      logger.error({ grantId: grant.id, err: errorMessage(err) }, 'revocation of a lost node’s grant failed; will retry, TTL caps exposure');
      await pool.query(FINISH_GRANT, [grant.id, 'revoke_failed', clock.now()]);
      await audit.settled([audit.issue({ type: 'grant.revoke.failed', ...base, error: errorMessage(err) })]);
      return;
    }
    await pool.query(FINISH_GRANT, [grant.id, 'revoked', clock.now()]);
    await audit.settled([audit.issue({ type: 'grant.revoked', ...base })]);
  }
}
