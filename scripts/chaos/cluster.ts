import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../tools/vault-compat/src/free-port.js';
import { startPostgres, type TestPostgres } from '../../tools/vault-compat/src/postgres.js';
import { Managed } from './processes.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const VAULT_CLI = join(ROOT, 'tools/vault-compat/src/cli.ts');
const DAEMON = join(ROOT, 'bin/jitgated.js');
export const DB_ROLE = 'chaos';
const DB_POLICY = 'chaos-db';

const baseEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' });

/** The three services under test and the means to break them: every kill is SIGKILL. */
export class Cluster {
  vault!: Managed;
  daemon!: Managed;
  rootToken = '';
  vaultAddress = '';
  stateUrl = '';
  /** Counts of each fault injected, for the table. */
  readonly faults = { daemonKills: 0, vaultKills: 0, postgresPauses: 0 };
  /** Exits nobody asked for (a crash is a finding). */
  readonly unexpectedExits: string[] = [];
  #vaultPort = 0;
  /** Processes this script ended on purpose. */
  readonly #ended = new Set<Managed>();

  private constructor(
    readonly dir: string,
    readonly pg: TestPostgres,
  ) {}

  static async start(dir: string): Promise<Cluster> {
    const cluster = new Cluster(dir, await startPostgres());
    await cluster.#createStateDatabase();
    cluster.#vaultPort = await freePort('127.0.0.1');
    cluster.vaultAddress = `http://127.0.0.1:${cluster.#vaultPort}`;
    await cluster.startVault();
    await cluster.#configureVault();
    await cluster.#writeDaemonConfig();
    await cluster.startDaemon();
    return cluster;
  }

  get socket(): string {
    return join(this.dir, 'jitgated.sock');
  }

  get auditFile(): string {
    return join(this.dir, 'audit.jsonl');
  }

  logFile(name: string): string {
    return join(this.dir, 'logs', `${name}.log`);
  }

  async #createStateDatabase(): Promise<void> {
    const client = new pg.Client({ connectionString: this.pg.url });
    await client.connect();
    await client.query('CREATE DATABASE jitgate_state');
    await client.end();
    this.stateUrl = this.pg.url.replace(/\/postgres$/, '/jitgate_state');
    // The daemon refuses a password inside its config: it reads it from a file.
    await writeFile(join(this.dir, 'pg-password'), this.pg.password, { mode: 0o600 });
  }

  async startVault(): Promise<void> {
    const args = ['--import', 'tsx', VAULT_CLI, '--port', String(this.#vaultPort), '--storage', join(this.dir, 'vault-storage.json')];
    const vault = new Managed(process.execPath, args, { cwd: ROOT, env: baseEnv(), logFile: this.logFile('vault') });
    this.#watch(vault, 'vault', () => this.vault);
    await vault.waitFor(/Api Address:/, 60_000);
    const token = /Root Token: (\S+)/.exec(vault.output)?.[1];
    if (token === undefined) throw new Error('the Vault server printed no root token');
    this.rootToken = token;
    this.vault = vault;
  }

  async #configureVault(): Promise<void> {
    await this.vaultApi('POST', 'database/config/chaos-pg', {
      plugin_name: 'postgresql-database-plugin',
      connection_url: `postgresql://{{username}}:{{password}}@${this.pg.host}:${this.pg.port}/postgres`,
      username: this.pg.user,
      password: this.pg.password,
      allowed_roles: [DB_ROLE],
    });
    await this.vaultApi('POST', `database/roles/${DB_ROLE}`, {
      db_name: 'chaos-pg',
      creation_statements: [`CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`],
      default_ttl: '1h',
      max_ttl: '24h',
    });
    await this.vaultApi('POST', `sys/policies/acl/${DB_POLICY}`, { policy: `path "database/creds/${DB_ROLE}" {\n  capabilities = ["read"]\n}\n` });
  }

  /** Calls the Vault API as root; throws on a non-2xx unless `allow` lists the status. */
  async vaultApi(method: string, path: string, body?: unknown, allow: readonly number[] = []): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.vaultAddress}/v1/${path}`, {
      method,
      headers: { 'X-Vault-Token': this.rootToken, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300 && !allow.includes(res.status)) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  }

  async #writeDaemonConfig(): Promise<void> {
    await writeFile(join(this.dir, 'vault-token'), this.rootToken, { mode: 0o600 });
    await writeFile(
      join(this.dir, 'jitgated.yaml'),
      `listen: { socket: ${this.socket} }
state: { postgres: "postgres://${this.pg.user}@${this.pg.host}:${this.pg.port}/jitgate_state", password_file: ${join(this.dir, 'pg-password')} }
audit: { file: ${this.auditFile}, checkpoint_every: 20 }
vault: { address: ${this.vaultAddress}, auth: { token_file: ${join(this.dir, 'vault-token')} }, timeout: 2s, mint_attempts: 2, revoke_attempts: 3 }
identity: { local: { context: true, approvers: true } }
groups:
  sre: [bob]
resources:
  chaos-token:
    vault: { policies: [${DB_POLICY}] }
    env: { VAULT_TOKEN: token }
    ttl: 20s
  chaos-db:
    vault: { policies: [${DB_POLICY}], read: database/creds/${DB_ROLE} }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 20s
  chaos-token-gated:
    vault: { policies: [${DB_POLICY}] }
    env: { VAULT_TOKEN: token }
    ttl: 20s
  chaos-db-gated:
    vault: { policies: [${DB_POLICY}], read: database/creds/${DB_ROLE} }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 20s
stop_timeout: 5s
policies:
  - name: auto
    match: { resource: [chaos-token, chaos-db], repository: acme/api }
    decision: auto-approve
  - name: gated
    match: { resource: [chaos-token-gated, chaos-db-gated], repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 15s }
  - name: everything-else
    decision: deny
`,
    );
  }

  async startDaemon(): Promise<void> {
    const daemon = new Managed(process.execPath, [DAEMON, '--config', join(this.dir, 'jitgated.yaml')], {
      cwd: ROOT,
      env: baseEnv(),
      logFile: this.logFile('jitgated'),
    });
    this.#watch(daemon, 'jitgated', () => this.daemon);
    this.daemon = daemon;
    await daemon.waitFor(/jitgated serving/, 90_000);
  }

  /** Records an exit of the current incarnation that no fault caused. */
  #watch(p: Managed, name: string, current: () => Managed | undefined): void {
    void p.exited.then((exit) => {
      if (!this.#ended.has(p) && current() === p) this.unexpectedExits.push(`${name} exited (code ${String(exit.code)}, signal ${String(exit.signal)})`);
    });
  }

  async killDaemon(): Promise<void> {
    this.faults.daemonKills += 1;
    this.#end(this.daemon, 'SIGKILL');
    await this.daemon.exited;
    await this.startDaemon();
  }

  async killVault(downMs: number): Promise<void> {
    this.faults.vaultKills += 1;
    this.#end(this.vault, 'SIGKILL');
    await this.vault.exited;
    await sleep(downMs);
    await this.startVault();
  }

  /** Freezes the whole PostgreSQL cluster (postmaster and backends) for `ms`. */
  async pausePostgres(ms: number): Promise<void> {
    this.faults.postgresPauses += 1;
    const pids = this.#postgresPids();
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      for (const pid of this.#postgresPids()) process.kill(pid, 'SIGCONT');
    }
  }

  #postgresPids(): number[] {
    const postmaster = Number(readFileSync(join(this.pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const pids = [postmaster];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === postmaster) pids.push(Number(entry));
      } catch {
        // The process ended while we looked.
      }
    }
    return pids;
  }

  /** Stops the daemon gracefully (it revokes what it still holds). */
  async stop(): Promise<void> {
    this.#end(this.daemon, 'SIGTERM');
    await this.daemon.exited;
  }

  #end(p: Managed, signal: NodeJS.Signals): void {
    this.#ended.add(p);
    p.kill(signal);
  }

  async close(): Promise<void> {
    this.#end(this.daemon, 'SIGKILL');
    this.#end(this.vault, 'SIGKILL');
    await Promise.all([this.daemon.exited, this.vault.exited]);
    await this.pg.stop();
  }
}

export { baseEnv };
