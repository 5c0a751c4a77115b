import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/logger.js';
import { AuditTrail } from '../audit/audit-trail.js';
import type { AuditLog } from '../audit/types.js';
import type { FleetConfig } from '../config/types.js';
import type { StateStore } from '../state/store.js';
import type { Broker } from '../vault/broker.js';
import { Heartbeat, type DroppableGate } from './heartbeat.js';
import { fleetStore } from './start-fleet.js';
import { FleetSweeper } from './sweeper.js';

export interface FleetLiveness {
  /** Whether the state database answers this daemon's heartbeat (health is NOT_SERVING otherwise). */
  readonly healthy: boolean;
  /** Stops the sweeper and the heartbeat; call after the gate's shutdown (the node then leaves cleanly). */
  close(): Promise<void>;
}

/**
 * Fleet liveness: this daemon's heartbeat, and its turn as the fleet sweeper. Resolves after the
 * first beat, so health is known before the daemon says SERVING.
 */
export async function startLiveness(options: {
  readonly store: StateStore;
  readonly gate: DroppableGate;
  readonly broker: Broker;
  readonly audit: AuditLog;
  readonly config: FleetConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onHealth: (healthy: boolean) => void;
}): Promise<FleetLiveness> {
  const { config, clock, broker } = options;
  const store = fleetStore(options.store);
  const logger = options.logger.child({ component: 'fleet', node: config.node });
  const audit = new AuditTrail(options.audit, logger);
  const heartbeat = new Heartbeat({
    pool: store.pool,
    node: config.node,
    intervalMs: config.heartbeatIntervalMs,
    gate: options.gate,
    audit,
    clock,
    logger,
    onHealth: options.onHealth,
  });
  const sweeper = new FleetSweeper({
    pool: store.pool,
    node: config.node,
    broker,
    audit,
    clock,
    logger,
    intervalMs: config.heartbeatIntervalMs,
    timeoutMs: config.heartbeatTimeoutMs,
    ready: () => heartbeat.healthy && audit.healthy && heartbeat.healthyFor() >= config.heartbeatTimeoutMs,
  });
  await heartbeat.start();
  // A runner under fleet.mint: plane holds no Vault credentials (and its row security shows it no
  // other node's rows): the planes sweep.
  const sweeps = !(config.mint === 'plane' && config.role === 'runner');
  if (sweeps) sweeper.start();
  return {
    get healthy() {
      return heartbeat.healthy;
    },
    close: async () => {
      await sweeper.stop();
      await heartbeat.stop();
    },
  };
}
