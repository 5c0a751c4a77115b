import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { DaemonProcess } from './daemon-process.js';
import { freePort } from './free-port.js';
import { postgresState } from './postgres-state.js';
import { startSlackApiServer, type SlackApiServer } from './slack-api-server.js';
import { httpBaseOf } from './web-daemon.js';

/** Policies of the fault tests (liveness, outage): demo-db granted at once, demo-token waits for one approval. */
export const FLEET_FAULT_POLICIES = `
  - name: db-auto
    match: { resource: demo-db, repository: acme/api }
    decision: auto-approve
  - name: token-needs-one
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }`;

export const FLEET_SLACK_TOKEN = 'xoxb-5555-6666-fleet-test';
export const FLEET_SLACK_SECRET = 'slack-signing-secret-for-the-fleet';

/** One daemon of a fleet: its process, its TCP+TLS approver listener and its HTTP base URL. */
export interface FleetNode {
  readonly name: string;
  readonly daemon: DaemonProcess;
  /** `host:port` of `listen.tcp` (TLS, certificate in `Fleet.caFile`). */
  readonly tcp: string;
  readonly http: string;
  /** CLI environment for approver commands through this node's TCP listener. */
  readonly tcpEnv: Record<string, string>;
}

export interface Fleet {
  readonly env: VaultWithDatabase;
  readonly slack: SlackApiServer;
  readonly dir: string;
  /** The state database's name and a client factory for reading it. */
  readonly database: string;
  readonly caFile: string;
  readonly nodes: Record<string, FleetNode>;
  /** Runs one statement on the state database (as the superuser). */
  query<R extends pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export interface FleetOptions {
  readonly names: readonly string[];
  readonly policies: string;
  readonly groups?: string;
  /** More `fleet:` keys, e.g. `heartbeat_interval: 1s, heartbeat_timeout: 3s`. */
  readonly fleetExtras?: string;
  /** `fleet:` keys of one node only, e.g. `{ r: 'role: runner' }`. */
  readonly nodeExtras?: Readonly<Record<string, string>>;
  /** Shared Vault + PostgreSQL; started (and stopped on close) when absent. */
  readonly env?: VaultWithDatabase;
}

/**
 * N real jitgated processes on one PostgreSQL state database (the embedded PostgreSQL the
 * Vault-compatible server's database engine runs on), each with a Unix socket for its steps, a
 * TCP+TLS listener for approvers, an HTTP listener and the same Slack app (one stand-in Slack).
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const env = options.env ?? (await startVaultWithDatabase());
  const slack = await startSlackApiServer({ token: FLEET_SLACK_TOKEN, channel: '#deploys' });
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-fleet-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'),
  ], { stdio: 'ignore' });
  await writeFile(join(dir, 'slack-token'), `${FLEET_SLACK_TOKEN}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'slack-signing'), `${FLEET_SLACK_SECRET}\n`, { mode: 0o600 });
  const state = await postgresState(env, dir);
  const nodes: Record<string, FleetNode> = {};
  const caFile = join(dir, 'tls.crt');
  const starting = options.names.map(async (name) => {
    const tcp = `127.0.0.1:${String(await freePort())}`;
    const daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: options.policies,
      ...(options.groups === undefined ? {} : { groups: options.groups }),
      state: `state: ${state.value}`,
      listenExtras: `tcp: { address: "${tcp}", tls: { cert_file: ${caFile}, key_file: ${join(dir, 'tls.key')} } }`,
      extraConfig: `fleet: { node: ${name}, reconcile_interval: 1s${options.fleetExtras === undefined ? '' : `, ${options.fleetExtras}`}${options.nodeExtras?.[name] === undefined ? '' : `, ${options.nodeExtras[name]}`} }
http: { listen: "127.0.0.1:0" }
notifiers:
  - slack: { token_file: ${join(dir, 'slack-token')}, signing_secret_file: ${join(dir, 'slack-signing')}, channel: "#deploys", team_id: T0ACME, users: { U0BOB: bob, U0CAROL: carol, U0ALICE: alice }, api_url: "${slack.url}" }`,
    });
    nodes[name] = { name, daemon, tcp, http: await httpBaseOf(daemon), tcpEnv: { JITGATE_ADDRESS: tcp.replace('127.0.0.1', 'localhost'), JITGATE_CA_FILE: caFile } };
  });
  const started = await Promise.allSettled(starting);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  const close = async (): Promise<void> => {
    await Promise.allSettled(Object.values(nodes).map((n) => n.daemon.close()));
    await slack.close();
    if (!options.env) await env.stop();
    await rm(dir, { recursive: true, force: true });
  };
  if (failed) {
    await close();
    throw failed.reason;
  }
  const password = env.pg.password;
  const query = async <R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ host: env.pg.host, port: env.pg.port, user: env.pg.user, password, database: state.database });
    await client.connect();
    try {
      return (await client.query<R>(sql, values)).rows;
    } finally {
      await client.end();
    }
  };
  return { env, slack, dir, database: state.database, caFile, nodes, query, close };
}
