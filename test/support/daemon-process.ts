import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { roleExists as roleExistsAt } from '../../tools/vault-compat/test/fixtures.js';
import type { VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const DAEMON = join(ROOT, 'src/daemon/main.ts');
const CLI = join(ROOT, 'src/cli/cli.ts');

/** Everything any process of the suite printed, so a test can prove no secret was ever shown. */
export const transcript: string[] = [];

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A process started in the background, with its output collected as it arrives. */
export class Proc {
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      transcript.push(d.toString());
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      transcript.push(d.toString());
    });
    this.exited = new Promise((res) => {
      child.once('close', (code, signal) => {
        res({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** Resolves once `pattern` shows in stdout or stderr; rejects if the process ends first. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    const state = { ended: false };
    void this.exited.then(() => {
      state.ended = true;
    });
    for (;;) {
      const match = (this.stdout + this.stderr).match(pattern);
      if (match) return match;
      if (state.ended) throw new Error(`process ended before ${String(pattern)}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}:\n${this.stdout}\n${this.stderr}`);
      await sleep(20);
    }
  }
}

export function startCli(args: readonly string[], env: Record<string, string> = {}, options: { stdin?: 'pipe' } = {}): Proc {
  return new Proc(
    spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    }),
  );
}

export function cli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).exited;
}

export interface DaemonOptions {
  readonly vaultEnv: VaultWithDatabase;
  readonly policies: string;
  readonly extraConfig?: string;
  readonly identity?: string;
  /** The `state:` section; default SQLite in the temp dir. */
  readonly state?: string;
  /** More keys of `listen:` after the socket, e.g. `tcp: { address: ..., tls: ... }`. */
  readonly listenExtras?: string;
  /** No Vault credentials at all (a fleet runner under `fleet.mint: plane`): no token file, no `vault.auth`. */
  readonly noVaultAuth?: boolean;
  /** The `groups:` section's entries; default `sre: [bob, alice]`. */
  readonly groups?: string;
  /** More keys of the two demo resources, e.g. `{ 'demo-db': 'step_up: { max_age: 5s }' }`. */
  readonly resourceExtras?: Partial<Record<'demo-db' | 'demo-token', string>>;
}

/** A real jitgated process on a temp socket, with its config, state and audit in a temp dir. */
export class DaemonProcess {
  proc!: Proc;
  /** Logs of earlier incarnations of this daemon (after restarts). */
  previousLogs = '';
  private launches = 0;

  private constructor(
    readonly dir: string,
    readonly configFile: string,
    readonly socket: string,
    readonly vaultEnv: VaultWithDatabase,
  ) {}

  static async start(options: DaemonOptions): Promise<DaemonProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'jitgated-e2e-'));
    const { vaultEnv } = options;
    if (options.noVaultAuth !== true) await writeFile(join(dir, 'vault-token'), vaultEnv.vault.rootToken, { mode: 0o600 });
    const vaultAuth = options.noVaultAuth === true ? '' : ` auth: { token_file: ${join(dir, 'vault-token')} },`;
    const socket = join(dir, 'jitgated.sock');
    const configFile = join(dir, 'jitgated.yaml');
    await writeFile(
      configFile,
      `listen: { socket: ${socket}${options.listenExtras === undefined ? '' : `, ${options.listenExtras}`} }
${options.state ?? `state: { sqlite: ${join(dir, 'state.db')} }`}
audit: { file: ${join(dir, 'audit.jsonl')}, checkpoint_every: 5 }
vault: { address: ${vaultEnv.vault.address},${vaultAuth} timeout: 2s, mint_attempts: 2, revoke_attempts: 3 }
${options.identity ?? 'identity: { local: { context: true, approvers: true } }'}
groups:
${options.groups ?? '  sre: [bob, alice]'}
resources:
  demo-db:
    vault: { policies: [${vaultEnv.policies.join(', ')}], read: database/creds/${vaultEnv.dbRole} }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
    ${options.resourceExtras?.['demo-db'] ?? ''}
  demo-token:
    vault: { policies: [${vaultEnv.policies.join(', ')}] }
    env: { VAULT_TOKEN: token }
    ttl: 60s
    ${options.resourceExtras?.['demo-token'] ?? ''}
stop_timeout: 10s
policies:
${options.policies}
${options.extraConfig ?? ''}`,
    );
    const daemon = new DaemonProcess(dir, configFile, socket, vaultEnv);
    await daemon.launch();
    return daemon;
  }

  get auditFile(): string {
    return join(this.dir, 'audit.jsonl');
  }

  get env(): Record<string, string> {
    return { JITGATE_SOCKET: this.socket };
  }

  async launch(): Promise<void> {
    if (this.launches++ > 0) this.previousLogs += this.proc.stdout + this.proc.stderr;
    this.proc = new Proc(
      spawn(process.execPath, ['--import', 'tsx', DAEMON, '--config', this.configFile], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await this.proc.waitFor(/jitgated serving/);
  }

  get logs(): string {
    return this.previousLogs + this.proc.stdout + this.proc.stderr;
  }

  async audit(): Promise<{ type: string; [k: string]: unknown }[]> {
    const text = await readFile(this.auditFile, 'utf8');
    return text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
  }

  /** Grants as the daemon's state records them (accessor and lease ids), read from its SQLite file. */
  async grants(): Promise<{ id: string; accessor: string | null; leaseIds: string[]; status: string }[]> {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(this.dir, 'state.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT id, accessor, lease_ids, status FROM grants').all() as {
        id: string;
        accessor: string | null;
        lease_ids: string;
        status: string;
      }[];
      return rows.map((r) => ({ id: r.id, accessor: r.accessor, leaseIds: JSON.parse(r.lease_ids) as string[], status: r.status }));
    } finally {
      db.close();
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<CliResult> {
    if (this.proc.child.exitCode === null && this.proc.child.signalCode === null) this.proc.child.kill(signal);
    return this.proc.exited;
  }

  async close(): Promise<void> {
    await this.stop('SIGKILL');
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `jitgate run` flags for a local-mode request: acme/api on main, actor alice, production. */
export function contextFlags(sha = 'a'.repeat(40)): string[] {
  return ['--repository', 'acme/api', '--ref', 'refs/heads/main', '--sha', sha, '--actor', 'alice', '--environment', 'production'];
}

/** Vault's view of a token accessor: alive or gone. */
export async function accessorAlive(env: VaultWithDatabase, accessor: string): Promise<boolean> {
  const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-accessor`, {
    method: 'POST',
    headers: { 'X-Vault-Token': env.vault.rootToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ accessor }),
  });
  await res.body?.cancel();
  return res.status === 200;
}

export async function leaseAlive(env: VaultWithDatabase, leaseId: string): Promise<boolean> {
  const res = await fetch(`${env.vault.address}/v1/sys/leases/lookup`, {
    method: 'PUT',
    headers: { 'X-Vault-Token': env.vault.rootToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ lease_id: leaseId }),
  });
  await res.body?.cancel();
  return res.status === 200;
}

export function roleExists(env: VaultWithDatabase, role: string): Promise<boolean> {
  return roleExistsAt(env.pg.url, role);
}

/** Polls `check` until it returns true or `ms` pass; returns the last result. */
export async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

/** A build step for `jitgate run`: logs into PostgreSQL, records what it saw in OUT_DIR, optionally waits. */
export const STEP = join(ROOT, 'test/support/step.mjs');

export function fileExists(path: string): boolean {
  return existsSync(path);
}
