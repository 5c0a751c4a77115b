import type { Clock } from '../../common/clock.js';
import { ConfigError, errorMessage } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { AuditTrail } from '../audit/audit-trail.js';
import type { AuditLog } from '../audit/types.js';
import type { Config, FleetConfig } from '../config/types.js';
import type { Broker } from '../vault/broker.js';
import { createOwnerVault } from '../vault/owner-vault.js';
import type { WrappingBroker } from '../vault/wrapped-grant.js';
import { OwnerBroker } from './owner-broker.js';
import { PlaneMinter } from './plane-minter.js';
import { PostgresStateStore } from '../state/postgres-store.js';
import type { StateStore } from '../state/store.js';
import { FleetChannel } from './fleet-channel.js';
import type { FleetGate } from './fleet-gate.js';
import { PostgresLedger } from './postgres-ledger.js';
import { Reconciler } from './reconciler.js';

const BACKSTOP_MS = 30_000;

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
export interface FleetSyncOptions {
  readonly store: StateStore;
  readonly gate: FleetGate;
  readonly config: FleetConfig;
  /** The plane mints with it under `fleet.mint: plane` (it must wrap). */
  readonly broker: Broker & Partial<WrappingBroker>;
  readonly resources: Config['resources'];
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** An approval plane under `fleet.mint: plane` mints for runners; runners and `mint: owner` fleets do not. */
function planeMinter(options: FleetSyncOptions, pool: PostgresStateStore['pool'], log: Logger): PlaneMinter | undefined {
  const { config, broker } = options;
  if (config.mint !== 'plane' || config.role === 'runner' || !broker.mintWrapped) return undefined;
  const wrapping = { mintWrapped: broker.mintWrapped.bind(broker), revoke: broker.revoke.bind(broker) };
  const audit = new AuditTrail(options.audit, log);
  return new PlaneMinter({ pool, node: config.node, broker: wrapping, gate: options.gate, config: { resources: options.resources }, audit, clock: options.clock, logger: log });
}

export async function startFleetSync(options: FleetSyncOptions): Promise<FleetSync> {
  const { gate, config, clock } = options;
  const store = fleetStore(options.store);
  const log = options.logger.child({ component: 'fleet', node: config.node });
  const minter = planeMinter(options, store.pool, log);
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
    ...(minter ? { onMint: (grantId: string) => void minter.handle(grantId) } : {}),
  });
  gate.onChange(({ request }) => {
    channel.announce(store.pool, request.id).catch(() => undefined);
  });
  await channel.start();
  await reconciler.start();
  // The plane's backstop for grants their runner could not revoke (fleet.mint: plane).
  const backstop = minter
    ? setInterval(() => {
        minter.sweepFailed().catch((err: unknown) => {
          log.warn({ err: errorMessage(err) }, 'backstop sweep failed');
        });
      }, BACKSTOP_MS)
    : undefined;
  backstop?.unref();
  return {
    close: async () => {
      clearInterval(backstop);
      await reconciler.stop();
      await channel.close();
    },
  };
}

/**
 * A runner's broker under `fleet.mint: plane` (`vault.auth` absent): no Vault token; grants come
 * wrapped from the approval plane and are revoked with their own child token.
 */
export async function createOwnerBroker(options: { store: StateStore; vault: Config['vault']; clock: Clock; logger: Logger }): Promise<OwnerBroker> {
  const { readFile } = await import('node:fs/promises');
  const caPem = options.vault.caFile ? await readFile(options.vault.caFile, 'utf8') : undefined;
  const vault = createOwnerVault({
    address: options.vault.address,
    timeoutMs: options.vault.timeoutMs,
    ...(caPem !== undefined ? { caPem } : {}),
    clock: options.clock,
    logger: options.logger,
    revokeAttempts: options.vault.revokeAttempts,
  });
  // The plane has as long as a mint's own attempts would take on this host.
  const waitMs = Math.max(5000, options.vault.timeoutMs * options.vault.mintAttempts);
  return new OwnerBroker({ pool: fleetStore(options.store).pool, vault, clock: options.clock, logger: options.logger.child({ component: 'owner-broker' }), waitMs });
}
