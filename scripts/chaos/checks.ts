import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { baseEnv, ROOT, type Cluster } from './cluster.js';
import { runToEnd } from './processes.js';
import type { Workload } from './workload.js';

export interface Row {
  readonly check: string;
  readonly observed: string;
  readonly ok: boolean;
}

const FINAL = ['released', 'denied', 'expired'];

/** Live token accessors and leases the Vault server still holds, other than its root token. */
async function vaultLeftovers(cluster: Cluster): Promise<{ tokens: string[]; leases: string[] }> {
  const self = await cluster.vaultApi('GET', 'auth/token/lookup-self');
  const rootAccessor = (self.body as { data: { accessor: string } }).data.accessor;
  const accessors = await cluster.vaultApi('LIST', 'auth/token/accessors', undefined, [404]);
  const tokens = accessors.status === 404 ? [] : (accessors.body as { data: { keys: string[] } }).data.keys.filter((a) => a !== rootAccessor);
  const leases = await cluster.vaultApi('LIST', 'sys/leases/lookup/database/creds/chaos/', undefined, [404]);
  return { tokens, leases: leases.status === 404 ? [] : (leases.body as { data: { keys: string[] } }).data.keys };
}

/** Waits (up to `ms`) for the Vault server to finish revocations already started. */
export async function vaultSettled(cluster: Cluster, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = await vaultLeftovers(cluster);
    if ((left.tokens.length === 0 && left.leases.length === 0) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function canLogIn(cluster: Cluster, user: string, password: string): Promise<boolean> {
  const client = new pg.Client({ host: cluster.pg.host, port: cluster.pg.port, user, password, database: 'postgres', connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function stateRows(cluster: Cluster): Promise<{ requests: Map<string, number>; grants: { accessor: string | null; lease_ids: string[]; status: string }[] }> {
  const client = new pg.Client({ connectionString: cluster.stateUrl });
  await client.connect();
  try {
    const requests = await client.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM requests GROUP BY status');
    const grants = await client.query<{ accessor: string | null; lease_ids: string[]; status: string }>('SELECT accessor, lease_ids, status FROM grants');
    return { requests: new Map(requests.rows.map((r) => [r.status, Number(r.n)])), grants: grants.rows };
  } finally {
    await client.end();
  }
}

/** Every check of the issue, each one row. Run after the daemon has stopped. */
export async function finalChecks(cluster: Cluster, workload: Workload): Promise<Row[]> {
  const rows: Row[] = [];
  const { requests, grants } = await stateRows(cluster);
  const total = [...requests.values()].reduce((a, b) => a + b, 0);
  const open = [...requests].filter(([s]) => !FINAL.includes(s));
  rows.push({ check: 'requests in a final state', observed: `${total - open.reduce((a, [, n]) => a + n, 0)}/${total} (${[...requests].map(([s, n]) => `${s} ${n}`).join(', ')})`, ok: open.length === 0 && total > 0 });
  const unrevoked = grants.filter((g) => g.status !== 'revoked');
  rows.push({ check: 'grants revoked in state', observed: `${grants.length - unrevoked.length}/${grants.length}`, ok: unrevoked.length === 0 });

  const left = await vaultLeftovers(cluster);
  let aliveAccessors = 0;
  let aliveLeases = 0;
  const accessors = grants.flatMap((g) => (g.accessor ? [g.accessor] : []));
  const leaseIds = grants.flatMap((g) => g.lease_ids);
  for (const accessor of accessors) {
    const res = await cluster.vaultApi('POST', 'auth/token/lookup-accessor', { accessor }, [400, 403]);
    if (res.status === 200) aliveAccessors += 1;
  }
  for (const lease_id of leaseIds) {
    const res = await cluster.vaultApi('POST', 'sys/leases/lookup', { lease_id }, [400]);
    if (res.status === 200) aliveLeases += 1;
  }
  rows.push({ check: 'Vault tokens still live (of those granted)', observed: `${aliveAccessors} of ${accessors.length}; ${left.tokens.length} live non-root tokens in Vault`, ok: aliveAccessors === 0 && left.tokens.length === 0 });
  rows.push({ check: 'Vault leases still live (of those granted)', observed: `${aliveLeases} of ${leaseIds.length}; ${left.leases.length} live database leases in Vault`, ok: aliveLeases === 0 && left.leases.length === 0 });

  const secrets = workload.secrets();
  const logins = secrets.flatMap((s) => (s.pgUser && s.pgPassword ? [{ user: s.pgUser, password: s.pgPassword }] : []));
  let loggedIn = 0;
  for (const l of logins) if (await canLogIn(cluster, l.user, l.password)) loggedIn += 1;
  const admin = new pg.Client({ connectionString: cluster.pg.url });
  await admin.connect();
  const roles = await admin.query<{ n: string }>("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE 'v-%'");
  await admin.end();
  const leftRoles = Number(roles.rows[0]?.n ?? 0);
  rows.push({ check: 'minted database roles that can log in', observed: `${loggedIn} of ${logins.length} tried; ${leftRoles} v-* roles left in PostgreSQL`, ok: loggedIn === 0 && leftRoles === 0 });

  const verify = await runToEnd(process.execPath, [join(ROOT, 'bin/jitgate.js'), 'audit', 'verify', cluster.auditFile], { cwd: ROOT, env: baseEnv(), logFile: cluster.logFile('audit-verify') });
  rows.push({ check: '`jitgate audit verify` on the audit log', observed: verify.code === 0 ? 'ok' : `exit ${String(verify.code)}: ${verify.output.trim().slice(0, 200)}`, ok: verify.code === 0 });

  const values = secrets.flatMap((s) => [s.pgPassword, s.vaultToken].filter((v): v is string => v !== undefined && v.length >= 8));
  const logDir = join(cluster.dir, 'logs');
  const texts = [...readdirSync(logDir).map((f) => readFileSync(join(logDir, f), 'utf8')), readFileSync(cluster.auditFile, 'utf8')];
  const leaked = values.filter((v) => texts.some((t) => t.includes(v)));
  rows.push({ check: 'minted secrets found in logs/stdout/stderr/audit', observed: `${leaked.length} of ${values.length} secrets, ${texts.length} files scanned`, ok: leaked.length === 0 && values.length > 0 });

  rows.push({ check: 'unexpected process exits', observed: cluster.unexpectedExits.length === 0 ? 'none' : cluster.unexpectedExits.join('; '), ok: cluster.unexpectedExits.length === 0 });
  return rows;
}

export function formatTable(rows: readonly Row[]): string {
  const lines = ['| check | observed | result |', '| --- | --- | --- |'];
  for (const r of rows) lines.push(`| ${r.check} | ${r.observed.replaceAll('|', '/')} | ${r.ok ? 'pass' : 'FAIL'} |`);
  return `${lines.join('\n')}\n`;
}
