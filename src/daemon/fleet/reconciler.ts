import type { Pool } from 'pg';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { FleetGate } from './fleet-gate.js';

/** A decision's commit can lag the clock reading it stamped: rows this recent are read again. */
const COMMIT_LAG_MS = 10_000;
const DB_NOW = 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now';
const CHANGED = 'SELECT id, changed_at FROM requests WHERE owner_node = $1 AND changed_at > $2';

/**
 * The backstop for lost notifications: every `intervalMs`, the owner reads which of its requests
 * another daemon decided since the last look (by the database's clock) and catches up on them.
 */
export class Reconciler {
  readonly #o: { pool: Pool; node: string; gate: FleetGate; clock: Clock; logger: Logger; intervalMs: number };
  #watermark = 0;
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(options: { pool: Pool; node: string; gate: FleetGate; clock: Clock; logger: Logger; intervalMs: number }) {
    this.#o = options;
  }

  async start(): Promise<void> {
    const { rows } = await this.#o.pool.query<{ now: string }>(DB_NOW);
    this.#watermark = Number(rows[0]?.now ?? 0);
    this.#schedule();
  }

  /** One look now (also after the notification connection comes back); overlapping calls share one. */
  tick(): Promise<void> {
    this.#running ??= this.#look().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.tick().finally(() => {
        this.#schedule();
      });
    }, this.#o.intervalMs);
    this.#timer.unref();
  }

  async #look(): Promise<void> {
    const { pool, node, gate, logger } = this.#o;
    try {
      const { rows } = await pool.query<{ id: string; changed_at: string }>(CHANGED, [node, this.#watermark - COMMIT_LAG_MS]);
      for (const row of rows) {
        this.#watermark = Math.max(this.#watermark, Number(row.changed_at));
        if (!gate.isPendingHere(row.id)) continue;
        if (await gate.syncRequest(row.id)) {
          logger.info({ requestId: row.id }, 'decision found by the reconcile: its notification was missed');
        }
      }
    } catch (err) {
      logger.warn({ err: errorMessage(err) }, 'fleet reconcile failed; retrying');
    }
  }
}
