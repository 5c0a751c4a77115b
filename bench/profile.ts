/**
 * `node --import tsx bench/profile.ts [--daemon dist|tsx] [--grants N] [--db-grants N] [--clients N]`:
 * the bench's grant path under the V8 CPU profiler. Starts the Vault-compatible server and
 * jitgated with `--cpu-prof --cpu-prof-dir bench/out/profile`, runs sequential token grants,
 * grants with a database read, and a concurrent grant+release loop (the throughput row), stops the
 * daemon (SIGTERM: Node writes the .cpuprofile on exit), then renders the newest profile as
 * folded stacks and a flame graph (bench/flame-graph.ts) in bench/out/.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess, type DaemonRuntime } from './daemon-process.js';
import { renderProfile } from './flame-graph.js';
import { measureGrants } from './measure-grants.js';
import { measureThroughput } from './measure-throughput.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault } from './vault-process.js';

const { values } = parseArgs({
  options: {
    daemon: { type: 'string', default: 'dist' },
    grants: { type: 'string', default: '1000' },
    'db-grants': { type: 'string', default: '100' },
    clients: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '5' },
  },
  strict: true,
});
if (values.daemon !== 'dist' && values.daemon !== 'tsx') throw new Error(`--daemon must be dist or tsx, not ${values.daemon}`);
const runtime: DaemonRuntime = values.daemon;
const count = (name: string, raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, not ${raw}`);
  return n;
};
const grants = count('grants', values.grants);
const dbGrants = count('db-grants', values['db-grants']);
const clients = count('clients', values.clients);
const seconds = count('seconds', values.seconds);

const OUT = fileURLToPath(new URL('./out/', import.meta.url));
const PROFILE_DIR = join(OUT, 'profile');

async function newestProfile(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.cpuprofile'));
  const dated = await Promise.all(names.map(async (n) => ({ n, t: (await stat(join(dir, n))).mtimeMs })));
  const newest = dated.sort((a, b) => b.t - a.t)[0];
  if (!newest) throw new Error(`no .cpuprofile in ${dir}`);
  return join(dir, newest.n);
}

const root = await mkdtemp(join(tmpdir(), 'jitgate-profile-'));
await mkdir(PROFILE_DIR, { recursive: true });
process.stderr.write('profile: starting the Vault-compatible server and PostgreSQL\n');
const vault = await startBenchVault();
try {
  const files = await writeDaemonConfig(root, vault, { maxPending: 1000 });
  const daemon = await startDaemonProcess(files, runtime, 30_000, ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR]);
  try {
    const client = new JitgateClient({ socket: files.socket, context: BENCH_CONTEXT });
    try {
      process.stderr.write(`profile: ${grants} token grants, ${dbGrants} database grants\n`);
      const token = await measureGrants({ client, resource: RESOURCE.token, vaultAddress: vault.address, warmup: 20, count: grants });
      const db = await measureGrants({ client, resource: RESOURCE.db, vaultAddress: vault.address, warmup: 3, count: dbGrants });
      process.stderr.write(`profile: token p50 ${token.grant.p50.toFixed(2)} ms, db p50 ${db.grant.p50.toFixed(2)} ms\n`);
    } finally {
      client.close();
    }
    if (clients > 0 && seconds > 0) {
      process.stderr.write(`profile: ${clients} clients for ${seconds} s\n`);
      const t = await measureThroughput(files.socket, RESOURCE.token, clients, seconds);
      process.stderr.write(`profile: ${t.perSecond.toFixed(0)}/s (${t.errors} errors)\n`);
    }
  } finally {
    await daemon.stop();
  }
  const profile = await newestProfile(PROFILE_DIR);
  const summary = await renderProfile(profile, join(OUT, 'grant-profile'));
  process.stdout.write(summary);
} finally {
  closeVaultProbe();
  await vault.stop();
  await rm(root, { recursive: true, force: true });
}
