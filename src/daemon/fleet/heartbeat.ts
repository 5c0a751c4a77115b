import type pg from 'pg';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { AuditTrail } from '../audit/audit-trail.js';

/** The database's clock in epoch ms: heartbeats and their judge share one clock, so host clock skew cannot kill a node. */
export const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

// $2: the first beat of this process, which (re)sets started_at.
const BEAT = `
  INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ($1, ${DB_NOW_MS}, ${DB_NOW_MS})
  ON CONFLICT (id) DO UPDATE
     SET heartbeat_at = excluded.heartbeat_at,
         started_at = CASE WHEN $2::boolean THEN excluded.started_at ELSE nodes.started_at END
  RETURNING dead_at`;
const REJOIN = `UPDATE nodes SET dead_at = NULL, heartbeat_at = ${DB_NOW_MS} WHERE id = $1 AND dead_at = $2`;
// A clean stop leaves nothing for the sweeper, so the row goes; anything still held (a revocation
// that failed at shutdown) keeps it, and the sweeper retries once the heartbeat has lapsed.
const LEAVE = `
  DELETE FROM nodes WHERE id = $1 AND dead_at IS NULL
     AND NOT EXISTS (SELECT 1 FROM grants WHERE owner_node = $1 AND status IN ('minting','live','revoking','revoke_failed'))
     AND NOT EXISTS (SELECT 1 FROM requests WHERE owner_node = $1 AND status IN ('pending','approved','granted'))`;

/** What the heartbeat needs of the gate when the fleet declared this daemon dead. */
export interface DroppableGate {
  /** Ends every pending request and revokes every grant this daemon holds, and goes on serving. */
  dropAll(reason: string): Promise<void>;
}

export interface HeartbeatOptions {
  readonly pool: pg.Pool;
  readonly node: string;
  readonly intervalMs: number;
  readonly gate: DroppableGate;
  readonly audit: AuditTrail;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Called when the database turns reachable or unreachable (health follows it). */
  readonly onHealth: (healthy: boolean) => void;
}

/**
 * This daemon's row in `nodes`, refreshed every `fleet.heartbeat_interval`. Its success is the
 * daemon's view of the database: a beat that fails, or has not answered within one interval,
 * turns health NOT_SERVING until a beat succeeds again. A beat that finds the row marked dead (the
 * sweeper revoked this daemon's grants while it was unreachable) drops everything and rejoins.
 */
export class Heartbeat {
  readonly #o: HeartbeatOptions;
  #healthy = false;
  /** Monotonic ms since which every beat succeeded; undefined while unhealthy. */
  #healthySince: number | undefined;
  #first = true;
  #timer: TimerHandle | undefined;
  #inFlight: Promise<void> | undefined;
  #stopped = false;

  constructor(options: HeartbeatOptions) {
    this.#o = options;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** How long (ms) the database has answered every beat; 0 while it does not. */
  healthyFor(): number {
    return this.#healthySince === undefined ? 0 : this.#o.clock.monotonic() - this.#healthySince;
  }

  /** The first beat, then one every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.#schedule();
  }

  /** One beat; never throws (a failure is the health signal). */
  beat(): Promise<void> {
    this.#inFlight ??= this.#beat().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Stops beating; after the gate's shutdown, leaves the fleet when nothing is left to sweep. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    await this.#inFlight;
    await this.#o.pool.query(LEAVE, [this.#o.node]).catch((err: unknown) => {
      this.#o.logger.warn({ err: errorMessage(err) }, 'could not leave the fleet cleanly; the sweeper will judge this node');
    });
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.beat().finally(() => {
        this.#schedule();
      });
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async #beat(): Promise<void> {
    const { pool, node, intervalMs, clock } = this.#o;
    // A slow database is an unavailable one: no answer within an interval turns health off meanwhile.
    const slow = clock.setTimeout(() => {
      this.#setHealth(false, 'database did not answer the heartbeat within fleet.heartbeat_interval');
    }, intervalMs);
    slow.unref();
    let deadAt: string | null;
    try {
      const { rows } = await pool.query<{ dead_at: string | null }>(BEAT, [node, this.#first]);
      deadAt = rows[0]?.dead_at ?? null;
      this.#first = false;
    } catch (err) {
      this.#setHealth(false, errorMessage(err));
      return;
    } finally {
      clock.clearTimeout(slow);
    }
    if (deadAt !== null) {
      await this.#rejoin(deadAt);
      return;
    }
    this.#setHealth(true);
  }

  /** Declared dead while away: nothing this daemon still holds is vouched for any more. */
  async #rejoin(deadAt: string): Promise<void> {
    const { pool, node, gate, audit, logger } = this.#o;
    logger.warn({ node }, 'the fleet declared this daemon dead; revoking everything it holds, then rejoining');
    await audit.safe({ type: 'fleet.declared_dead', deadAt: Number(deadAt) });
    try {
      await gate.dropAll('owner lost');
      await pool.query(REJOIN, [node, deadAt]);
    } catch (err) {
      // Stays marked dead (and NOT_SERVING): the next beat tries again.
      this.#setHealth(false, errorMessage(err));
      return;
    }
    await audit.safe({ type: 'fleet.rejoined' });
    this.#setHealth(true);
  }

  #setHealth(healthy: boolean, why?: string): void {
    if (healthy === this.#healthy) return;
    this.#healthy = healthy;
    this.#healthySince = healthy ? this.#o.clock.monotonic() : undefined;
    if (healthy) this.#o.logger.info('state database reachable again: serving');
    else this.#o.logger.error({ err: why }, 'state database unreachable: no new grants; health NOT_SERVING');
    this.#o.onHealth(healthy);
  }
}
