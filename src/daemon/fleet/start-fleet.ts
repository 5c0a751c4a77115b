import type { Clock } from '../../common/clock.js';
import { ConfigError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { FleetConfig } from '../config/types.js';
import { PostgresStateStore } from '../state/postgres-store.js';
import type { StateStore } from '../state/store.js';
import { FleetChannel } from './fleet-channel.js';
import type { FleetGate } from './fleet-gate.js';
import { PostgresLedger } from './postgres-ledger.js';
import { Reconciler } from './reconciler.js';

/** The shared database a fleet needs; the config check already insists on `state.postgres`. */
export function fleetStore(store: StateStore): PostgresStateStore {
  if (!(store instanceof PostgresStateStore)) throw new ConfigError('fleet', 'needs state.postgres: a fleet shares one PostgreSQL database');
  return store;
}

export function createFleetLedger(store: StateStore, clock: Clock): PostgresLedger {
  const pg = fleetStore(store);
  return new PostgresLedger(pg.pool, pg.node, () => clock.now());
}

export interface FleetSync {
  close(): Promise<void>;
}

/**
 * Joins this daemon to the fleet's flow of changes: it announces its own (so other daemons'
 * watchers see them), wakes on other daemons' decisions, and reconciles every
 * `fleet.reconcile_interval` in case a notification was lost.
 */
export async function startFleetSync(options: { store: StateStore; gate: FleetGate; config: FleetConfig; clock: Clock; logger: Logger }): Promise<FleetSync> {
  const { gate, config, clock } = options;
  const store = fleetStore(options.store);
  const log = options.logger.child({ component: 'fleet', node: config.node });
  const reconciler = new Reconciler({ pool: store.pool, node: config.node, gate, clock, logger: log, intervalMs: config.reconcileIntervalMs });
  const channel = new FleetChannel({
    connection: store.pool.options,
    node: config.node,
    clock,
    logger: log,
    onChange: (id) => {
      gate.syncRequest(id).catch((err: unknown) => {
        log.warn({ requestId: id, err: errorMessage(err) }, 'could not catch up on a change; the reconcile will');
      });
    },
    onReconnect: () => void reconciler.tick(),
  });
  gate.onChange(({ request }) => {
    channel.announce(store.pool, request.id).catch(() => undefined);
  });
  await channel.start();
  await reconciler.start();
  return {
    close: async () => {
      await reconciler.stop();
      await channel.close();
    },
  };
}
