import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import { openFileAuditLog, type FileAuditLogOptions } from '../../src/daemon/audit/file-audit-log.js';
import type { AuditLog } from '../../src/daemon/audit/types.js';
import { parseConfig } from '../../src/daemon/config/load-config.js';
import type { Config } from '../../src/daemon/config/types.js';
import { AccessGate } from '../../src/daemon/gate/access-gate.js';
import type { AccessInput, AccessUpdate } from '../../src/model/request.js';
import { createLocalContextResolver } from '../../src/daemon/identity/local-context-resolver.js';
import { PolicyEngine } from '../../src/daemon/policy/index.js';
import { openSqliteStore } from '../../src/daemon/state/sqlite-store.js';
import type { StateStore } from '../../src/daemon/state/store.js';
import { createVaultBroker } from '../../src/daemon/vault/vault-broker.js';
import { createVaultClient } from '../../src/daemon/vault/vault-client.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

export type VaultEnv = Awaited<ReturnType<typeof startVaultWithDatabase>>;

/** Renders a dev-mode config around the given resources/policies YAML, pointing at `dir`. */
export function gateConfigYaml(dir: string, vaultAddress: string, dbRole: string, policies: string, extra = ''): string {
  return `
listen: { socket: ${join(dir, 'jitgated.sock')} }
state: { sqlite: ${join(dir, 'state.db')} }
audit: { file: ${join(dir, 'audit.jsonl')}, checkpoint_every: 10 }
vault: { address: ${vaultAddress}, auth: { token_file: ${join(dir, 'vault-token')} }, timeout: 2s, mint_attempts: 2, revoke_attempts: 3 }
identity: { local: { context: true, approvers: true } }
groups:
  sre: [bob, dave, alice]
  dba: [erin]
  oncall: [frank]
resources:
  demo-db:
    vault: { policies: [jit-demo-db], read: database/creds/${dbRole} }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
    max_ttl: 120s
  demo-token:
    vault: { policies: [jit-demo-db] }
    env: { VAULT_TOKEN: token }
    ttl: 30s
    max_ttl: 60s
  demo-strict:
    vault: { policies: [jit-demo-db] }
    env: { VAULT_TOKEN: token }
    ttl: 30s
    max_ttl: 60s
    excess_ttl: deny
policies:
${policies}
${extra}`;
}

export interface GateFixture {
  readonly dir: string;
  readonly config: Config;
  readonly clock: ManualClock;
  readonly store: StateStore;
  readonly audit: AuditLog;
  readonly gate: AccessGate;
  readonly vaultEnv: VaultEnv;
  /** Reopens state and audit and builds a fresh gate over them, as a restarted daemon would. */
  restart(): Promise<AccessGate>;
  close(): Promise<void>;
}

export async function startGateFixture(options: {
  vaultEnv: VaultEnv;
  policies: string;
  extraConfig?: string;
  openFile?: FileAuditLogOptions['openFile'];
}): Promise<GateFixture> {
  const { vaultEnv } = options;
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-gate-'));
  await writeFile(join(dir, 'vault-token'), vaultEnv.vault.rootToken, { mode: 0o600 });
  const config = parseConfig(gateConfigYaml(dir, vaultEnv.vault.address, vaultEnv.dbRole, options.policies, options.extraConfig), {
    source: 'test.yaml',
    baseDir: dir,
  });
  const clock = new ManualClock(Date.now());
  const logger = silentLogger();
  const open = async (): Promise<{ gate: AccessGate; store: StateStore; audit: AuditLog; stopBroker: () => Promise<void> }> => {
    const audit = await openFileAuditLog({
      ...config.audit,
      clock,
      logger,
      ...(options.openFile ? { openFile: options.openFile } : {}),
    });
    const store = openSqliteStore({ path: config.state.kind === 'sqlite' ? config.state.path : '', clock });
    const client = createVaultClient({ address: config.vault.address, timeoutMs: config.vault.timeoutMs });
    // The broker's backoff runs on real time: the Vault-compatible server answers in real time too.
    const broker = createVaultBroker({ client, config: config.vault, clock: systemClock, logger, backoffMs: 5 });
    await broker.authenticate();
    const gate = new AccessGate({
      config,
      contexts: createLocalContextResolver(),
      policy: new PolicyEngine(config.policies),
      broker,
      store,
      audit,
      clock,
      logger,
    });
    return { gate, store, audit, stopBroker: () => broker.close() };
  };
  let current = await open();
  const fixture = {
    dir,
    config,
    clock,
    vaultEnv,
    get store() {
      return current.store;
    },
    get audit() {
      return current.audit;
    },
    get gate() {
      return current.gate;
    },
    async restart() {
      await current.stopBroker();
      await current.audit.close();
      await current.store.close();
      current = await open();
      await current.gate.recover();
      return current.gate;
    },
    async close() {
      await current.gate.shutdown();
      await current.stopBroker();
      await current.audit.close().catch(() => undefined);
      await current.store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

export const LOCAL_CONTEXT = {
  repository: 'acme/api',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  actor: 'alice',
  environment: 'production',
} as const;

export function accessInput(overrides: Partial<AccessInput> = {}): AccessInput {
  return { resource: 'demo-db', reason: 'migrate', claimed: LOCAL_CONTEXT, ...overrides };
}

/**
 * Drives a RequestAccess iteration in the background, collecting updates; `next(kind)` waits for
 * the first update of that kind.
 */
export class StreamProbe {
  readonly updates: AccessUpdate[] = [];
  readonly controller = new AbortController();
  readonly done: Promise<unknown>;
  #waiters: { kind: AccessUpdate['kind']; resolve: (u: AccessUpdate) => void }[] = [];

  constructor(gate: AccessGate, input: AccessInput) {
    this.done = (async () => {
      for await (const update of gate.requestAccess(input, this.controller.signal)) {
        this.updates.push(update);
        this.#waiters = this.#waiters.filter((w) => {
          if (w.kind !== update.kind) return true;
          w.resolve(update);
          return false;
        });
      }
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
  }

  next<K extends AccessUpdate['kind']>(kind: K): Promise<Extract<AccessUpdate, { kind: K }>> {
    const seen = this.updates.find((u) => u.kind === kind);
    if (seen) return Promise.resolve(seen as Extract<AccessUpdate, { kind: K }>);
    return new Promise((resolve, reject) => {
      this.#waiters.push({ kind, resolve: resolve as (u: AccessUpdate) => void });
      void this.done.then(() => {
        reject(new Error(`stream ended without a ${kind} update (saw ${this.updates.map((u) => u.kind).join(', ') || 'nothing'})`));
      });
    });
  }
}
