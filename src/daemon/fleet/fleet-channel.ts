import pg from 'pg';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { FLEET_CHANNEL } from './postgres-ledger.js';

/** Runners ask the approval plane to mint here (`fleet.mint: plane`); the payload is a grant id. */
export const MINT_CHANNEL = 'jitgate_mints';

/** How long a lost LISTEN connection waits before it reconnects, doubling up to the cap. */
const RECONNECT_MIN_MS = 2000;
const RECONNECT_MAX_MS = 30_000;

export interface FleetChannelOptions {
  /** The pool's connection settings: the LISTEN connection is one more of the same. */
  readonly connection: pg.ClientConfig;
  readonly node: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Another daemon changed request `id`. Must not throw. */
  readonly onChange: (id: string) => void;
  /** The connection is back after a loss: notifications may have been missed meanwhile. */
  readonly onReconnect: () => void;
  /** An approval plane under `fleet.mint: plane`: a runner asks for grant `id` to be minted. */
  readonly onMint?: (grantId: string) => void;
}

/**
 * The fleet's wake-up channel: one LISTEN connection per daemon. It is only a hint — a lost
 * connection (or a lost notification) delays a decision by at most the reconcile interval, since
 * the reconcile reads the database itself — so failures here are logged, never fatal.
 */
export class FleetChannel {
  readonly #o: FleetChannelOptions;
  #client: pg.Client | undefined;
  #retryMs = RECONNECT_MIN_MS;
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(options: FleetChannelOptions) {
    this.#o = options;
  }

  /** Connects and LISTENs; a failure schedules a retry (the reconcile covers the gap). */
  async start(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ ...this.#o.connection, application_name: 'jitgated-listen' });
    client.on('error', (err) => {
      this.#lost(client, err);
    });
    client.on('end', () => {
      this.#lost(client, new Error('connection ended'));
    });
    client.on('notification', (message) => {
      if (message.channel === MINT_CHANNEL && message.payload !== undefined) {
        this.#o.onMint?.(message.payload);
        return;
      }
      if (message.channel !== FLEET_CHANNEL || message.payload === undefined) return;
      const [from, id] = message.payload.split(' ');
      if (from === this.#o.node || id === undefined) return;
      this.#o.onChange(id);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${FLEET_CHANNEL}`);
      if (this.#o.onMint) await client.query(`LISTEN ${MINT_CHANNEL}`);
      const reconnected = this.#client !== undefined || this.#retryMs > RECONNECT_MIN_MS;
      this.#client = client;
      this.#retryMs = RECONNECT_MIN_MS;
      if (reconnected) {
        this.#o.logger.info('fleet notifications back');
        this.#o.onReconnect();
      }
    } catch (err) {
      this.#lost(client, err);
    }
  }

  /** Tells every other daemon that request `id` changed. Best effort: their reconcile is the backstop. */
  async announce(pool: pg.Pool, id: string): Promise<void> {
    await pool.query('SELECT pg_notify($1, $2)', [FLEET_CHANNEL, `${this.#o.node} ${id}`]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) this.#o.clock.clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #lost(client: pg.Client, err: unknown): void {
    if (this.#closed || (this.#client !== undefined && this.#client !== client)) return;
    if (this.#timer !== undefined) return;
    this.#client = undefined;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.#o.logger.warn({ err: errorMessage(err), retryInMs: this.#retryMs }, 'fleet notification connection lost; the reconcile covers the gap');
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.start();
    }, this.#retryMs);
    this.#timer.unref();
    this.#retryMs = Math.min(this.#retryMs * 2, RECONNECT_MAX_MS);
  }
}
