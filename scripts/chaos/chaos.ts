/**
 * `npm run chaos -- --minutes N --seed S [--clients K] [--keep]`: random client steps against a
 * real jitgated (PostgreSQL state) on the Vault-compatible server (with a storage file) and an
 * embedded PostgreSQL, while SIGKILLing the daemon, clients and the Vault server and freezing
 * PostgreSQL at random times. Then it checks that nothing leaked (see checks.ts), prints the table
 * and exits 1 on any violation, naming the seed to replay. `--plant-leak` proves the checks can
 * fail: before checking, it mints a token and a database login behind the daemon's back and
 * prints the password to a log (the test expects those rows to fail).
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { vaultSettled, finalChecks, formatTable, type Row } from './checks.js';
import { Cluster, DB_ROLE } from './cluster.js';
import { Prng } from './prng.js';
import { Workload } from './workload.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    seed: { type: 'string' },
    clients: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
    'plant-leak': { type: 'boolean', default: false },
  },
  strict: true,
});
const minutes = Number(values.minutes);
const clients = Number(values.clients);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
for (const [flag, v, ok] of [['--minutes', minutes, minutes > 0], ['--clients', clients, Number.isInteger(clients) && clients > 0], ['--seed', seed, Number.isInteger(seed) && seed >= 0]] as const) {
  if (!Number.isFinite(v) || !ok) {
    process.stderr.write(`chaos: invalid ${flag}\n`);
    process.exit(2);
  }
}

const rng = new Prng(seed);
const dir = mkdtempSync(join(tmpdir(), 'jitgate-chaos-'));
mkdirSync(join(dir, 'logs'), { recursive: true });
const say = (line: string): void => { process.stdout.write(`chaos: ${line}\n`); };
say(`seed ${seed}, ${minutes} min, ${clients} clients, dir ${dir}`);

const started = Date.now();
const cluster = await Cluster.start(dir);
const workload = new Workload(cluster, rng);
// The workload runs for --minutes after the cluster is up: a slow start-up (embedded PostgreSQL on
// a loaded machine) must not eat a short run's whole window.
const endAt = Date.now() + minutes * 60_000;
let rows: Row[] = [];
let failure: unknown = null;

/** Client loops: each runs steps back to back until the time is up. */
async function clientLoop(): Promise<void> {
  while (Date.now() < endAt) await workload.step();
}

/**
 * One fault at a time, every 4 to 12 s, each ending with the service back up; in rounds of the
 * three kinds in a random order, so even a short run breaks each one.
 */
async function faultLoop(): Promise<void> {
  const faultRng = new Prng(seed ^ 0x5eed);
  const round: ('daemon' | 'vault' | 'postgres')[] = [];
  for (;;) {
    await sleep(faultRng.int(4_000, 12_000));
    if (Date.now() >= endAt - 5_000) return;
    if (round.length === 0) {
      const kinds = ['daemon', 'vault', 'postgres'] as const;
      round.push(...[...kinds].sort(() => faultRng.next() - 0.5));
    }
    const fault = round.shift() ?? 'daemon';
    say(`fault: ${fault}`);
    if (fault === 'daemon') await cluster.killDaemon();
    else if (fault === 'vault') await cluster.killVault(faultRng.int(0, 3000));
    else await cluster.pausePostgres(faultRng.int(1000, 5000));
  }
}

/** A leaked token, lease, login and logged password, as a self-test of the checks. */
async function plantLeak(c: Cluster, w: Workload): Promise<void> {
  const created = await c.vaultApi('POST', 'auth/token/create', { policies: ['chaos-db'], ttl: '1h' });
  const token = (created.body as { auth: { client_token: string } }).auth.client_token;
  const res = await fetch(`${c.vaultAddress}/v1/database/creds/${DB_ROLE}`, { headers: { 'X-Vault-Token': token } });
  const creds = ((await res.json()) as { data: { username: string; password: string } }).data;
  const planted = join(dir, 'steps', 'planted');
  mkdirSync(planted, { recursive: true, mode: 0o700 });
  writeFileSync(join(planted, 'secrets.json'), JSON.stringify({ PGUSER: creds.username, PGPASSWORD: creds.password, VAULT_TOKEN: token }), { mode: 0o600 });
  w.stepDirs.push(planted);
  appendFileSync(c.logFile('planted'), `planted leak: ${creds.password}\n`);
}

try {
  await Promise.all([faultLoop(), ...Array.from({ length: clients }, () => clientLoop())]);
  say('workload done; waiting for the daemon to settle');
  // Pending requests expire after 15 s and grants after their 20 s TTL: the daemon must end every
  // request by itself, without help.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const res = await cluster.vaultApi('LIST', 'auth/token/accessors', undefined, [404]);
    if (res.status === 404 || (res.body as { data: { keys: string[] } }).data.keys.length <= 1) break;
    await sleep(1000);
  }
  await cluster.stop();
  await vaultSettled(cluster, 30_000);
  if (values['plant-leak']) await plantLeak(cluster, workload);
  rows = await finalChecks(cluster, workload);
} catch (err) {
  failure = err;
} finally {
  await cluster.close().catch(() => undefined);
}

const duration = ((Date.now() - started) / 60_000).toFixed(1);
const steps = [...workload.counts].map(([k, n]) => `${k} ${n}`).join(', ');
const outcomes = [...workload.outcomes].map(([k, n]) => `${k} ${n}`).join(', ');
const f = cluster.faults;
process.stdout.write(`\nchaos run: seed ${seed}, ${duration} min wall, ${workload.stepDirs.length} client steps (${steps}); outcomes: ${outcomes}; approved via CLI ${workload.approvals}; faults: daemon SIGKILL ${f.daemonKills}, Vault SIGKILL ${f.vaultKills}, PostgreSQL frozen ${f.postgresPauses}\n\n`);
process.stdout.write(formatTable(rows));
const violations = rows.filter((r) => !r.ok);
if (failure !== null || violations.length > 0) {
  if (failure !== null) process.stdout.write(`\nchaos: the run itself failed: ${failure instanceof Error ? failure.stack ?? failure.message : JSON.stringify(failure)}\n`);
  process.stdout.write(`\nchaos: FAILED (${violations.length} violations); replay with: npm run chaos -- --minutes ${values.minutes} --seed ${seed} --clients ${clients}${values['plant-leak'] ? ' --plant-leak' : ''}; logs kept in ${dir}\n`);
  process.exit(1);
}
if (!values.keep) rmSync(dir, { recursive: true, force: true });
process.stdout.write('\nchaos: all checks passed\n');
process.exit(0);
