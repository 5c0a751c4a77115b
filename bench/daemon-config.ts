import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { BenchVault } from './vault-process.js';

/** Resource names the bench asks for. */
export const RESOURCE = {
  /** Auto-approved, token only: the step gets the child token. */
  token: 'bench-token',
  /** Auto-approved, a dynamic `database/creds/<role>` read under the child token (a real PostgreSQL role). */
  db: 'bench-db',
  /** Needs an approval that never comes: holds a pending request. */
  pending: 'bench-pending',
} as const;

/** What every bench request claims (local trust mode). */
export const BENCH_CONTEXT = {
  repository: 'acme/api',
  ref: 'refs/heads/main',
  sha: '0123456789abcdef0123456789abcdef01234567',
  actor: 'bench',
  environment: 'bench',
} as const;

export interface DaemonFiles {
  readonly configFile: string;
  readonly socket: string;
  readonly auditFile: string;
  readonly logFile: string;
}

/**
 * A development config (self-asserted context, local approvers) with production durability:
 * SQLite state and an fsynced audit log, all under `dir`.
 */
export interface DaemonConfigOptions {
  readonly maxPending: number;
  /** `host:port` for the HTTP listener (`GET /metrics`); none by default, as in the latency runs. */
  readonly httpListen?: string;
  /** The `state:` section; default a SQLite file `state.db` under the directory. */
  readonly state?: Readonly<Record<string, string>>;
  /** How long a `bench-pending` request waits for an approval before it expires (default 24h). */
  readonly pendingExpiresAfter?: string;
  /** More top-level sections (e.g. `fleet:`), appended after the others; none by default. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export async function writeDaemonConfig(dir: string, vault: BenchVault, options: DaemonConfigOptions): Promise<DaemonFiles> {
  const tokenFile = join(dir, 'vault-token');
  await writeFile(tokenFile, vault.rootToken, { mode: 0o600 });
  const files: DaemonFiles = {
    configFile: join(dir, 'jitgated.yaml'),
    socket: join(dir, 'jitgated.sock'),
    auditFile: join(dir, 'audit.jsonl'),
    logFile: join(dir, 'jitgated.log'),
  };
  const policies = [...vault.policies];
  const config = {
    listen: { socket: files.socket },
    state: options.state ?? { sqlite: join(dir, 'state.db') },
    audit: { file: files.auditFile, fsync: true },
    vault: { address: vault.address, auth: { token_file: tokenFile } },
    identity: { local: { context: true, approvers: true } },
    groups: { sre: ['approver'] },
    resources: {
      [RESOURCE.token]: { vault: { policies }, env: { VAULT_TOKEN: 'token' }, ttl: '60s', max_ttl: '300s' },
      [RESOURCE.db]: {
        vault: { policies, read: `database/creds/${vault.dbRole}` },
        env: { VAULT_TOKEN: 'token', PGUSER: 'username', PGPASSWORD: 'password' },
        ttl: '60s',
        max_ttl: '300s',
      },
      [RESOURCE.pending]: { vault: { policies }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' },
    },
    policies: [
      {
        name: 'bench-pending',
        match: { resource: RESOURCE.pending, repository: BENCH_CONTEXT.repository },
        require: { approvals: 1, from: ['group:sre'], expires_after: options.pendingExpiresAfter ?? '24h' },
      },
      { name: 'bench-auto', match: { resource: [RESOURCE.token, RESOURCE.db], repository: BENCH_CONTEXT.repository }, decision: 'auto-approve' },
      { name: 'everything-else', decision: 'deny' },
    ],
    // One repository and actor hold every pending request here: the per-repository and per-actor
    // caps (issue 11 #18) are raised to the total so the 10,000-pending measurement still runs.
    limits: { max_pending_requests: options.maxPending, pending_per_repository: options.maxPending, pending_per_actor: options.maxPending },
    log: { level: 'info' },
    ...(options.httpListen === undefined ? {} : { http: { listen: options.httpListen } }),
    ...options.extra,
  };
  await writeFile(files.configFile, stringify(config), { mode: 0o600 });
  return files;
}
