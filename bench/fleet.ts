/**
 * `npm run bench:fleet [-- --quick] [-- --out FILE]` (issue 13, acceptance 8): in one run, against
 * one Vault-compatible server and its PostgreSQL, token grant latency on a single-host SQLite
 * daemon (the baseline) and on a fleet-mode daemon whose state is PostgreSQL, then the RSS growth
 * of pending requests on 1 fleet daemon (all of them) and on 4 fleet daemons sharing one database
 * (a quarter each, all held at the same time), with single-host SQLite for comparison. Each fleet
 * gets a fresh state database. Writes a table to stdout and JSON to bench/out/fleet.json (or
 * --out). `--quick` is a seconds-long smoke run; `--daemon dist` runs the compiled daemon.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess, type DaemonProcess, type DaemonRuntime } from './daemon-process.js';
import { createFleetDatabase, type FleetDatabase } from './fleet-state.js';
import { measureFleetPending, type FleetPendingRun } from './measure-fleet-pending.js';
import { measureGrants, type GrantRun } from './measure-grants.js';
import { measurePending } from './measure-pending.js';
import { machineInfo, passes, renderTable, type Figure, type Machine, type Results } from './report.js';
import { elapsedMs } from './stats.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault, type BenchVault } from './vault-process.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./out/fleet.json', import.meta.url)) },
    daemon: { type: 'string', default: 'tsx' },
  },
  strict: true,
});
const quick = values.quick;
if (values.daemon !== 'dist' && values.daemon !== 'tsx') throw new Error(`--daemon must be dist or tsx, not ${values.daemon}`);
const runtime: DaemonRuntime = values.daemon;

/** `pending` is the total; the 4-daemon fleet holds a quarter on each. */
const plan = quick ? { warmup: 5, grants: 30, pending: 200, fleetSize: 4 } : { warmup: 100, grants: 1000, pending: 10_000, fleetSize: 4 };
const MB = 1024 * 1024;
const load = (): number[] => loadavg().map((l) => Math.round(l * 100) / 100);

interface FleetResults extends Results {
  /** Load averages (1, 5, 15 min) when the run started and ended: the machine is shared. */
  readonly machine: Machine & { readonly loadAverageAtStart: readonly number[]; readonly loadAverageAtEnd: readonly number[] };
}

function progress(message: string): void {
  process.stderr.write(`bench:fleet: ${message}\n`);
}

class Bench {
  readonly daemons: DaemonProcess[] = [];
  readonly databases: FleetDatabase[] = [];
  constructor(
    readonly vault: BenchVault,
    readonly root: string,
  ) {}

  /** A daemon in `root/name`; `fleet` puts it in fleet mode as node `name` on that database. */
  async daemon(name: string, fleet?: FleetDatabase): Promise<{ daemon: DaemonProcess; socket: string }> {
    const dir = join(this.root, name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const files = await writeDaemonConfig(dir, this.vault, {
      maxPending: Math.max(20_000, plan.pending * 2),
      ...(fleet && { state: fleet.config, extra: { fleet: { node: name, reconcile_interval: '1s' } } }),
    });
    const daemon = await startDaemonProcess(files, runtime);
    this.daemons.push(daemon);
    return { daemon, socket: files.socket };
  }

  async database(): Promise<FleetDatabase> {
    const db = await createFleetDatabase(this.vault.pgUrl, this.root);
    this.databases.push(db);
    return db;
  }

  async grants(socket: string): Promise<GrantRun> {
    const client = new JitgateClient({ socket, context: BENCH_CONTEXT });
    try {
      return await measureGrants({ client, resource: RESOURCE.token, vaultAddress: this.vault.address, warmup: plan.warmup, count: plan.grants });
    } finally {
      client.close();
    }
  }

  async close(): Promise<void> {
    closeVaultProbe();
    for (const d of this.daemons) await d.stop().catch(() => undefined);
    for (const db of this.databases) await db.close().catch(() => undefined);
    await this.vault.stop();
    await rm(this.root, { recursive: true, force: true });
  }
}

async function pendingOnOne(bench: Bench, name: string, fleet?: FleetDatabase): Promise<FleetPendingRun> {
  const { daemon, socket } = await bench.daemon(name, fleet);
  const run = fleet
    ? await measureFleetPending({ targets: [{ node: name, socket, rss: () => daemon.rss() }], resource: RESOURCE.pending, count: plan.pending, pendingInDatabase: () => fleet.pendingByNode() })
    : { perDaemon: [{ node: name, ...(await measurePending({ socket, resource: RESOURCE.pending, count: plan.pending, rss: () => daemon.rss() })) }], pendingInDatabase: {} };
  await daemon.stop();
  return run;
}

async function pendingOnFleet(bench: Bench): Promise<FleetPendingRun> {
  const db = await bench.database();
  const nodes = Array.from({ length: plan.fleetSize }, (_, i) => `fleet-${i + 1}`);
  const started = [];
  // One at a time: each runs the migrations check and registers its node; a parallel start only adds noise.
  for (const node of nodes) started.push({ node, ...(await bench.daemon(node, db)) });
  const run = await measureFleetPending({
    targets: started.map((s) => ({ node: s.node, socket: s.socket, rss: () => s.daemon.rss() })),
    resource: RESOURCE.pending,
    count: plan.pending / plan.fleetSize,
    pendingInDatabase: () => db.pendingByNode(),
  });
  for (const s of started) await s.daemon.stop();
  return run;
}

function pendingFigures(prefix: string, what: string, run: FleetPendingRun): Figure[] {
  const per = run.perDaemon;
  const growth = per.map((p) => p.growthBytes);
  const max = Math.max(...growth);
  const mean = growth.reduce((s, g) => s + g, 0) / growth.length;
  const count = per.reduce((s, p) => s + p.count, 0);
  const each = per[0]?.count ?? 0;
  const figures: Figure[] = [];
  if (per.length > 1) {
    figures.push(
      { id: `${prefix}.growth.mean`, label: `${what}: RSS growth per daemon (${each.toLocaleString('en-US')} pending each), mean of ${per.length}`, value: mean / MB, unit: 'MB' },
      { id: `${prefix}.growth.max`, label: `${what}: RSS growth per daemon, largest`, value: max / MB, unit: 'MB' },
      { id: `${prefix}.growth.total`, label: `${what}: RSS growth summed over the ${per.length} daemons`, value: (mean * per.length) / MB, unit: 'MB' },
    );
  } else {
    figures.push({ id: `${prefix}.growth`, label: `${what}: RSS growth for ${count.toLocaleString('en-US')} pending`, value: mean / MB, unit: 'MB' });
  }
  figures.push(
    { id: `${prefix}.idle`, label: `${what}: daemon RSS idle before the requests${per.length > 1 ? ', mean' : ''}`, value: per.reduce((s, p) => s + p.idleRssBytes, 0) / per.length / MB, unit: 'MB' },
    { id: `${prefix}.per-request`, label: `${what}: RSS per pending request`, value: (mean * per.length) / count / 1024, unit: 'KiB' },
  );
  const inDb = Object.values(run.pendingInDatabase).reduce((s, n) => s + n, 0);
  if (Object.keys(run.pendingInDatabase).length > 0) {
    figures.push({ id: `${prefix}.in-database`, label: `${what}: pending in the state database while RSS was read`, value: inDb, unit: 'requests' });
  }
  return figures;
}

async function main(): Promise<FleetResults> {
  const startedAt = new Date();
  const loadAverageAtStart = load();
  const runStart = process.hrtime.bigint();
  const root = await mkdtemp(join(tmpdir(), 'jitgate-bench-fleet-'));
  progress('starting the Vault-compatible server and PostgreSQL');
  const bench = new Bench(await startBenchVault(), root);
  const details: Record<string, unknown> = { plan };
  const figures: Figure[] = [];
  try {
    progress(`single-host SQLite: ${plan.grants} token grants`);
    const single = await bench.daemon('sqlite');
    const sqliteGrants = await bench.grants(single.socket);
    await single.daemon.stop();

    progress(`fleet mode, 1 daemon on PostgreSQL: ${plan.grants} token grants`);
    const fleetOne = await bench.daemon('fleet-grants', await bench.database());
    const fleetGrants = await bench.grants(fleetOne.socket);
    await fleetOne.daemon.stop();
    details.grants = { sqlite: sqliteGrants, fleet: fleetGrants };

    progress(`fleet mode, 1 daemon: ${plan.pending} pending`);
    const pendingOne = await pendingOnOne(bench, 'fleet-solo', await bench.database());
    progress(`fleet mode, ${plan.fleetSize} daemons on one database: ${plan.pending / plan.fleetSize} pending each`);
    const pendingFour = await pendingOnFleet(bench);
    progress(`single-host SQLite: ${plan.pending} pending`);
    const pendingSqlite = await pendingOnOne(bench, 'sqlite-pending');
    details.pending = { fleetOne: pendingOne, fleetFour: pendingFour, sqlite: pendingSqlite };

    figures.push(
      { id: 'sqlite.grant.p50', label: `single-host SQLite, token grant: p50 (n=${sqliteGrants.grant.n})`, value: sqliteGrants.grant.p50, unit: 'ms' },
      { id: 'sqlite.grant.p99', label: 'single-host SQLite, token grant: p99', value: sqliteGrants.grant.p99, unit: 'ms' },
      { id: 'fleet.grant.p50', label: `fleet mode, 1 daemon on PostgreSQL, token grant: p50 (n=${fleetGrants.grant.n})`, value: fleetGrants.grant.p50, unit: 'ms' },
      { id: 'fleet.grant.p99', label: 'fleet mode, 1 daemon on PostgreSQL, token grant: p99', value: fleetGrants.grant.p99, unit: 'ms' },
      { id: 'ratio.grant.p50', label: 'fleet / single-host SQLite, token grant p50', value: fleetGrants.grant.p50 / sqliteGrants.grant.p50, unit: '×' },
      { id: 'ratio.grant.p99', label: 'fleet / single-host SQLite, token grant p99', value: fleetGrants.grant.p99 / sqliteGrants.grant.p99, unit: '×' },
      ...pendingFigures('fleet1.pending', 'fleet, 1 daemon', pendingOne),
      ...pendingFigures(`fleet${plan.fleetSize}.pending`, `fleet, ${plan.fleetSize} daemons on one database`, pendingFour),
      ...pendingFigures('sqlite.pending', 'single-host SQLite', pendingSqlite),
    );
  } finally {
    await bench.close();
  }
  return {
    command: runtime === 'dist' ? `npm run bench:fleet${quick ? ' -- --quick' : ''}` : `node --import tsx bench/fleet.ts${quick ? ' --quick' : ''}`,
    daemon: runtime,
    mode: quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationSeconds: elapsedMs(runStart) / 1000,
    machine: { ...machineInfo(), loadAverageAtStart, loadAverageAtEnd: load() },
    figures: figures.map((f) => ({ ...f, pass: passes(f) })),
    details,
  };
}

const results = await main();
const out = resolve(values.out);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
const [table = '', ...rest] = renderTable(results).split('\n\n');
process.stdout.write(`${table}\nload average (1, 5, 15 min): ${results.machine.loadAverageAtStart.join(', ')} at the start, ${results.machine.loadAverageAtEnd.join(', ')} at the end\n\n${rest.join('\n\n')}`);
process.stderr.write(`bench:fleet: results written to ${out}\n`);
