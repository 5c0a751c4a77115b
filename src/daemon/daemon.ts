import { readFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../common/clock.js';
import { ConfigError, errorMessage } from '../common/errors.js';
import { createLogger, logDestination, resolveLogFormat, type Logger } from '../common/logger.js';
import { openFileAuditLog } from './audit/file-audit-log.js';
import type { AuditLog } from './audit/types.js';
import type { CheckedConfig } from './config/types.js';
import { AccessGate } from './gate/access-gate.js';
import type { ApproverResolver } from './gate/types.js';
import type { ContextResolver } from './gate/ports.js';
import { createGrpcServer, type GrpcServerHandle } from './grpc/server.js';
import { createHttpServer } from './http/http-server.js';
import { createApproverResolver } from './identity/approver-resolver.js';
import { createContextResolver } from './identity/context-resolver.js';
import type { FleetLiveness } from './fleet/start-liveness.js';
import { startNotifications } from './notify/start-notifications.js';
import { PolicyEngine } from './policy/index.js';
import { openStateStore } from './state/open-state-store.js';
import type { StateStore } from './state/store.js';
import type { Broker } from './vault/broker.js';
import { deferAuthentication } from './vault/deferred-auth-broker.js';
import { createVaultBroker } from './vault/vault-broker.js';
import { createVaultClient } from './vault/vault-client.js';

export interface DaemonDeps {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Replaces the Vault broker (tests drive faults through the Vault-compatible server instead). */
  readonly broker?: Broker & { authenticate?(): Promise<void> };
  /** A listening Unix socket passed by systemd (LISTEN_FDS, read by main): served instead of binding listen.socket. */
  readonly socketFd?: number;
}

export interface Daemon {
  readonly gate: AccessGate;
  readonly grpc: GrpcServerHandle;
  readonly audit: AuditLog;
  readonly store: StateStore;
  /** The graceful stop: NOT_SERVING → refuse new work → end pending and revoke grants → drain → exit. */
  stop(): Promise<void>;
}

function warnDevelopmentModes(config: CheckedConfig, log: Logger): void {
  if (config.identity.localContext) {
    log.warn('identity.local.context is on: requests assert their own context (development only; every audit record says trust: local)');
  }
  if (config.identity.localApprovers) {
    log.warn('identity.local.approvers is on: approvers name themselves (development only)');
  }
}

/** The Vault broker (or the injected one), its login deferred. */
async function connectVault(config: CheckedConfig, deps: DaemonDeps, store: StateStore, clock: Clock, logger: Logger): Promise<ReturnType<typeof deferAuthentication>> {
  const log = logger.child({ component: 'daemon' });
  let vaultBroker: Broker & { authenticate?(): Promise<void> };
  if (deps.broker) {
    vaultBroker = deps.broker;
  } else if (config.vault.auth.kind === 'none') {
    // A fleet runner under fleet.mint: plane: no Vault identity; the approval plane mints for it.
    vaultBroker = await (await import('./fleet/start-fleet.js')).createOwnerBroker({ store, vault: config.vault, clock, logger });
  } else {
    const caPem = config.vault.caFile ? await readFile(config.vault.caFile, 'utf8') : undefined;
    const client = createVaultClient({ address: config.vault.address, timeoutMs: config.vault.timeoutMs, ...(caPem ? { caPem } : {}) });
    vaultBroker = createVaultBroker({ client, config: config.vault, clock, logger });
  }
  // Keep serving if the login fails: mints fail closed (UNAVAILABLE) until Vault answers, and the
  // sweeper retries revocations. The login itself runs on the first Vault call or right after
  // SERVING, not before it: recovery with orphans still waits for it.
  return deferAuthentication(vaultBroker, (err) => {
    log.error({ err: errorMessage(err) }, 'vault authentication failed; grants will be refused until it works');
  });
}

/** Who is asking (CI context) and who approves, per `identity:`. */
async function createIdentity(config: CheckedConfig, store: StateStore, clock: Clock, logger: Logger): Promise<{
  oidc: { close(): void } | undefined;
  idp: { close(): void } | undefined;
  contexts: ContextResolver;
  approvers: ApproverResolver;
}> {
  // OIDC verification (jose), metrics (prom-client), notifiers and the PostgreSQL driver are
  // imported only when the config uses them: module loading dominates cold start.
  const oidc =
    config.identity.ci.length > 0
      ? (await import('./identity/oidc-context-resolver.js')).createOidcContextResolver({ issuers: config.identity.ci, store, clock, logger })
      : undefined;
  const contexts: ContextResolver = createContextResolver({ local: config.identity.localContext, ...(oidc ? { oidc } : {}) });
  const idp = config.identity.approvers
    ? (await import('./identity/idp-approver-resolver.js')).createIdpApproverResolver({ config: config.identity.approvers, groups: config.groups, clock, logger })
    : undefined;
  const approvers: ApproverResolver = createApproverResolver({
    local: config.identity.localApprovers,
    groups: config.groups,
    ...(idp ? { idp } : {}),
  });
  return { oidc, idp, contexts, approvers };
}

/** Fleet mode: the heartbeat (the shared database's reachability is part of health) and the sweeper. */
async function startFleetLiveness(
  config: CheckedConfig,
  parts: Omit<Parameters<typeof import('./fleet/start-liveness.js').startLiveness>[0], 'config'>,
): Promise<FleetLiveness | undefined> {
  if (!config.fleet) return undefined;
  return (await import('./fleet/start-liveness.js')).startLiveness({ ...parts, config: config.fleet });
}

/**
 * Assembles and starts jitgated from a config that passed `checkConfig` (which `jitgated` runs
 * first, refusing to start on any problem): nothing here validates settings again. Start-up
 * order matters: the audit log and state open first (nothing may happen unrecorded), then orphan recovery (which logs in to
 * Vault first if it has anything to revoke), and only then does the socket accept requests. The
 * Vault login otherwise starts right after SERVING, and every Vault call waits for it.
 */
export async function startDaemon(config: CheckedConfig, deps: DaemonDeps = {}): Promise<Daemon> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger(config.log.level, logDestination(resolveLogFormat(config.log.format, process.stderr.isTTY)));
  const log = logger.child({ component: 'daemon' });

  warnDevelopmentModes(config, log);

  const audit = await openFileAuditLog({ ...config.audit, clock, logger, ...(config.fleet && { node: config.fleet.node }) });
  const store = await openStateStore(config.state, { clock, logger, ...(config.fleet ? { node: config.fleet.node } : {}) });
  const broker = await connectVault(config, deps, store, clock, logger);
  const { oidc, idp, contexts, approvers } = await createIdentity(config, store, clock, logger);

  // Fleet mode: decisions go through the shared database; loaded only when configured.
  const fleetModule = config.fleet ? await import('./fleet/start-fleet.js') : undefined;
  const ledger = fleetModule?.createFleetLedger(store, clock);
  const gate = new AccessGate({ config, contexts, policy: new PolicyEngine(config.policies), broker, store, audit, clock, logger, ...(ledger ? { fleet: ledger } : {}) });
  await gate.recover();
  const fleetSync = fleetModule && config.fleet ? await fleetModule.startFleetSync({ store, gate, config: config.fleet, broker, resources: config.resources, audit, clock, logger }) : undefined;
  let stopping: Promise<void> | undefined;
  // One HTTP listener (when configured) for metrics, health, Slack/webhook callbacks and the approval page.
  const http = config.http ? createHttpServer({ listen: config.http.listen, logger }) : undefined;
  const metrics = http ? (await import('./metrics.js')).createMetrics(gate, audit) : undefined;
  if (http && metrics) http.route('GET', '/metrics', async () => ({
    status: 200,
    headers: { 'content-type': metrics.registry.contentType },
    body: await metrics.render(),
  }));
  const fleet: { liveness?: FleetLiveness | undefined } = {}; // fleet mode: whether the shared database answers
  const serving = (): boolean => audit.healthy && !stopping && (fleet.liveness?.healthy ?? true);
  http?.route('GET', '/healthz', () => (serving() ? { status: 200, body: 'SERVING\n' } : { status: 503, body: 'NOT_SERVING\n' }));
  const notifications = await startNotifications({ config, gate, audit, clock, logger, ...(http ? { httpServer: http } : {}) });
  let httpAddress: string | undefined;
  if (http && config.http) {
    try {
      httpAddress = await http.start();
    } catch (err) {
      throw new ConfigError('http.listen', `cannot listen on ${config.http.listen}`, { cause: err });
    }
  }

  const activation = deps.socketFd === undefined ? {} : { socketFd: deps.socketFd };
  const grpc = createGrpcServer({ gate, approvers, listen: config.listen, ...activation, limits: config.limits, logger, clock, deferReflection: true });
  await grpc.start();
  fleet.liveness = await startFleetLiveness(config, { store, gate, broker, audit, clock, logger, onHealth: () => { grpc.setServing(serving()); } });
  grpc.setServing(serving());
  audit.onUnhealthy((err) => {
    log.error({ err: errorMessage(err) }, 'audit log failed: no new grants; health NOT_SERVING');
    grpc.setServing(false);
  });
  // Not needed to serve safely, so after SERVING: the Vault login and the reflection service.
  void broker.authenticate();
  try {
    await grpc.addReflection();
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'grpc reflection unavailable');
  }
  log.info({ socket: config.listen.socket, tcp: config.listen.tcp?.address, http: httpAddress }, 'jitgated serving');

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping');
      grpc.setServing(false);
      await gate.shutdown();
      await fleetSync?.close();
      await fleet.liveness?.close();
      await grpc.shutdown(Math.max(1000, config.stopTimeoutMs / 2));
      await notifications.close();
      await http?.close();
      oidc?.close();
      idp?.close();
      await broker.close();
      await audit.close();
      await store.close();
      log.info('stopped');
    })();
    return stopping;
  };

  return { gate, grpc, audit, store, stop };
}
