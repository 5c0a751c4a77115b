/**
 * `npm run bench [-- --quick] [-- --out FILE]`: builds (`npm run build`), then starts the Vault-compatible server (with PostgreSQL)
 * and jitgated as child processes and measures every figure of the brief's performance table,
 * with the direct-Vault baseline and the floor baseline (direct Vault + the fsynced writes + one
 * gRPC unary call on a Unix socket, bench/measure-floor.ts) in the same run. Writes a table to stdout and JSON to
 * bench/results.json (or --out). `--quick` is a seconds-long smoke run of the same harness. Gate and
 * floor grants run in alternating rounds (bench/interleave.ts) so their ratio sees one load.
 * `--daemon dist` (what `npm run bench` passes) runs the compiled daemon, as deployed; the default,
 * `tsx`, runs the sources so a harness check needs no build and never measures a stale dist/.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JitgateClient } from '../src/client/index.js';
import { BENCH_CONTEXT, RESOURCE, writeDaemonConfig } from './daemon-config.js';
import { startDaemonProcess, type DaemonProcess, type DaemonRuntime } from './daemon-process.js';
import { measureAudit } from './measure-audit.js';
import { measureDirect } from './measure-direct.js';
import { interleaved, withoutSamples } from './interleave.js';
import { FSYNCED_WRITES, measureFloor } from './measure-floor.js';
import { measureGrants } from './measure-grants.js';
import { measureKills } from './measure-kill.js';
import { measurePending } from './measure-pending.js';
import { FAST_REVOCATION, measureRoleDrop } from './measure-role-drop.js';
import { measureThroughput, type ThroughputRun } from './measure-throughput.js';
import { machineInfo, passes, renderTable, type Figure, type Results } from './report.js';
import { elapsedMs, summarize } from './stats.js';
import { closeVaultProbe } from './vault-probe.js';
import { startBenchVault, type BenchVault } from './vault-process.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: fileURLToPath(new URL('./results.json', import.meta.url)) },
    daemon: { type: 'string', default: 'tsx' },
  },
  strict: true,
});
const quick = values.quick;
if (values.daemon !== 'dist' && values.daemon !== 'tsx') throw new Error(`--daemon must be dist or tsx, not ${values.daemon}`);
const runtime: DaemonRuntime = values.daemon;

/** Sizes: the full run stays under 5 minutes on 2 cores; quick is a smoke test of the harness. */
const plan = quick
  ? { warmup: 10, grants: 40, rounds: 2, dbWarmup: 3, dbGrants: 10, dbRounds: 2, throughputSeconds: 1, kills: 2, killBatch: 2, pending: 200, extraColdStarts: 0, audit: 2000, auditSequential: 100 }
  : { warmup: 100, grants: 2000, rounds: 10, dbWarmup: 10, dbGrants: 100, dbRounds: 5, throughputSeconds: 5, kills: 20, killBatch: 5, pending: 10_000, extraColdStarts: 3, audit: 20_000, auditSequential: 1000 };
const AUDIT_IN_FLIGHT = 256;
const MB = 1024 * 1024;

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function freshDaemon(vault: BenchVault, root: string, name: string): Promise<{ daemon: DaemonProcess; socket: string }> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = await writeDaemonConfig(dir, vault, { maxPending: Math.max(20_000, plan.pending * 2) });
  return { daemon: await startDaemonProcess(files, runtime), socket: files.socket };
}

/** Sets the bench role's `revocation_statements` (the Vault API, as an operator would). */
async function setRevocationStatements(vault: BenchVault, statements: readonly string[]): Promise<void> {
  const res = await fetch(`${vault.address}/v1/database/roles/${vault.dbRole}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': vault.rootToken, 'Content-Type': 'application/json' },
    body: JSON.stringify({ revocation_statements: statements }),
  });
  if (!res.ok) throw new Error(`database/roles/${vault.dbRole}: HTTP ${String(res.status)}`);
}

async function main(): Promise<Results> {
  const startedAt = new Date();
  const runStart = process.hrtime.bigint();
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { plan };
  const root = await mkdtemp(join(tmpdir(), 'jitgate-bench-'));
  progress('starting the Vault-compatible server and PostgreSQL');
  const vault = await startBenchVault();
  const daemons: DaemonProcess[] = [];
  try {
    const coldStarts: number[] = [];
    const dbRead = `database/creds/${vault.dbRole}`;

    progress('starting jitgated (child process)');
    const main = await freshDaemon(vault, root, 'main');
    daemons.push(main.daemon);
    coldStarts.push(main.daemon.startMs);
    const idleRss = await main.daemon.rss();

    const client = new JitgateClient({ socket: main.socket, context: BENCH_CONTEXT });
    let token;
    let db;
    let floorToken;
    let floorDb;
    // Gate and floor alternate in rounds (bench/interleave.ts), so the ratio compares them under
    // the same load on a shared machine; each round warms its side up again, untimed.
    const warm = (n: number, rounds: number): number => Math.max(3, Math.ceil(n / rounds));
    try {
      progress(`grant latency: ${plan.grants} token-only grants and as many floor grants, in ${plan.rounds} alternating rounds`);
      ({ gate: token, floor: floorToken } = await interleaved(
        plan.rounds,
        plan.grants,
        (count) => measureGrants({ client, resource: RESOURCE.token, vaultAddress: vault.address, warmup: warm(plan.warmup, plan.rounds), count }),
        (count) => measureFloor(vault, undefined, warm(plan.warmup, plan.rounds), count),
      ));
      progress(`grant latency: ${plan.dbGrants} grants with a database/creds read and as many floor grants, in ${plan.dbRounds} rounds`);
      ({ gate: db, floor: floorDb } = await interleaved(
        plan.dbRounds,
        plan.dbGrants,
        (count) => measureGrants({ client, resource: RESOURCE.db, vaultAddress: vault.address, pgUrl: vault.pgUrl, warmup: warm(plan.dbWarmup, plan.dbRounds), count }),
        (count) => measureFloor(vault, dbRead, warm(plan.dbWarmup, plan.dbRounds), count),
      ));
    } finally {
      client.close();
    }
    progress('direct node-vault baseline');
    const directToken = await measureDirect(vault, undefined, plan.warmup, plan.grants);
    const directDb = await measureDirect(vault, dbRead, plan.dbWarmup, plan.dbGrants);
    progress("PostgreSQL alone: the role drop a database lease revoke runs (Vault's default SQL)");
    const roleDrop = await measureRoleDrop(vault.pgUrl, 'default', plan.dbWarmup, plan.dbGrants);
    // The same releases with the role's revocation_statements set (DROP OWNED + DROP ROLE), as the
    // README recommends: Vault's default revocation SQL alone takes most of the 20 ms budget.
    progress(`release with revocation_statements: ${plan.dbGrants} grants with a database/creds read`);
    await setRevocationStatements(vault, FAST_REVOCATION);
    const fastClient = new JitgateClient({ socket: main.socket, context: BENCH_CONTEXT });
    let dbFast;
    try {
      dbFast = await measureGrants({ client: fastClient, resource: RESOURCE.db, vaultAddress: vault.address, pgUrl: vault.pgUrl, warmup: plan.dbWarmup, count: plan.dbGrants });
    } finally {
      fastClient.close();
    }
    const directDbFast = await measureDirect(vault, dbRead, plan.dbWarmup, plan.dbGrants);
    const roleDropFast = await measureRoleDrop(vault.pgUrl, 'fast', plan.dbWarmup, plan.dbGrants);
    details.grants = {
      token: withoutSamples(token),
      db: withoutSamples(db),
      directToken,
      directDb,
      roleDrop,
      dbFast: withoutSamples(dbFast),
      directDbFast,
      roleDropFast,
      floorToken: withoutSamples(floorToken),
      floorDb: withoutSamples(floorDb),
      rounds: { token: plan.rounds, db: plan.dbRounds },
    };

    const throughput: ThroughputRun[] = [];
    for (const clients of [1, 16, 64]) {
      progress(`throughput: ${clients} clients for ${plan.throughputSeconds} s`);
      throughput.push(await measureThroughput(main.socket, RESOURCE.token, clients, plan.throughputSeconds));
    }
    details.throughput = throughput;

    progress(`step killed → revoked: ${plan.kills} kills`);
    const kills = await measureKills({ socket: main.socket, resource: RESOURCE.token, vaultAddress: vault.address, kills: plan.kills, batch: plan.killBatch });
    details.kills = kills;
    await main.daemon.stop();

    progress(`memory: ${plan.pending} pending requests on a fresh daemon`);
    const mem = await freshDaemon(vault, root, 'pending');
    daemons.push(mem.daemon);
    coldStarts.push(mem.daemon.startMs);
    const pending = await measurePending({ socket: mem.socket, resource: RESOURCE.pending, count: plan.pending, rss: () => mem.daemon.rss() });
    details.pending = pending;
    await mem.daemon.stop();

    for (let i = 0; i < plan.extraColdStarts; i++) {
      progress(`cold start ${i + 1}/${plan.extraColdStarts}`);
      const extra = await freshDaemon(vault, root, `cold-${i}`);
      daemons.push(extra.daemon);
      coldStarts.push(extra.daemon.startMs);
      await extra.daemon.stop();
    }
    const cold = summarize(coldStarts);
    details.coldStart = { samples: coldStarts, ...cold };

    progress(`audit appends: ${plan.audit} records with fsync`);
    const audit = await measureAudit(plan.audit, plan.auditSequential, AUDIT_IN_FLIGHT);
    details.audit = audit;

    const t64 = throughput.find((t) => t.clients === 64);
    figures.push(
      { id: 'grant.token.p50', label: 'auto-approved grant, token only: p50', value: token.grant.p50, unit: 'ms', target: { op: '<=', value: 3 } },
      { id: 'grant.token.p90', label: 'auto-approved grant, token only: p90', value: token.grant.p90, unit: 'ms' },
      { id: 'grant.token.p99', label: 'auto-approved grant, token only: p99', value: token.grant.p99, unit: 'ms', target: { op: '<=', value: 15 } },
      { id: 'grant.token.max', label: `auto-approved grant, token only: max (n=${token.grant.n})`, value: token.grant.max, unit: 'ms' },
      { id: 'direct.token.p50', label: 'direct node-vault child token create: p50', value: directToken.grant.p50, unit: 'ms' },
      { id: 'direct.token.p99', label: 'direct node-vault child token create: p99', value: directToken.grant.p99, unit: 'ms' },
      { id: 'ratio.token.p50', label: 'gate / direct, token only, p50', value: token.grant.p50 / directToken.grant.p50, unit: '×', target: { op: '<=', value: 1.5 } },
      { id: 'floor.token.p50', label: `floor: direct token create + ${FSYNCED_WRITES} fsynced writes + gRPC unary (Unix socket): p50`, value: floorToken.grant.p50, unit: 'ms' },
      { id: 'floor.token.p99', label: 'floor, token only: p99', value: floorToken.grant.p99, unit: 'ms' },
      { id: 'floor.fsync.p50', label: `floor part: ${FSYNCED_WRITES} × durable write (O_DSYNC), token runs: p50`, value: floorToken.fsync.p50, unit: 'ms' },
      { id: 'ratio.floor.token.p50', label: 'gate / floor, token only, p50', value: token.grant.p50 / floorToken.grant.p50, unit: '×', target: { op: '<=', value: 1.3 } },
      { id: 'grant.db.p50', label: 'auto-approved grant + database/creds read: p50', value: db.grant.p50, unit: 'ms', target: { op: '<=', value: 3 } },
      { id: 'grant.db.p90', label: 'auto-approved grant + database/creds read: p90', value: db.grant.p90, unit: 'ms' },
      { id: 'grant.db.p99', label: 'auto-approved grant + database/creds read: p99', value: db.grant.p99, unit: 'ms', target: { op: '<=', value: 15 } },
      { id: 'grant.db.max', label: `auto-approved grant + database/creds read: max (n=${db.grant.n})`, value: db.grant.max, unit: 'ms' },
      { id: 'direct.db.p50', label: 'direct node-vault child token + database/creds read: p50', value: directDb.grant.p50, unit: 'ms' },
      { id: 'direct.db.p99', label: 'direct node-vault child token + database/creds read: p99', value: directDb.grant.p99, unit: 'ms' },
      { id: 'ratio.db.p50', label: 'gate / direct, with database read, p50', value: db.grant.p50 / directDb.grant.p50, unit: '×', target: { op: '<=', value: 1.5 } },
      { id: 'floor.db.p50', label: `floor: direct token + database/creds read + ${FSYNCED_WRITES} fsynced writes + gRPC unary: p50`, value: floorDb.grant.p50, unit: 'ms' },
      { id: 'floor.db.p99', label: 'floor, with database read: p99', value: floorDb.grant.p99, unit: 'ms' },
      { id: 'ratio.floor.db.p50', label: 'gate / floor, with database read, p50', value: db.grant.p50 / floorDb.grant.p50, unit: '×', target: { op: '<=', value: 1.3 } },
      ...throughput.map((t): Figure => ({
        id: `throughput.c${t.clients}`,
        label: `grant+release throughput, ${t.clients} concurrent client${t.clients === 1 ? '' : 's'}${t.errors ? ` (${t.errors} errors)` : ''}`,
        value: t.perSecond,
        unit: '/s',
        ...(t === t64 ? { target: { op: '>=', value: 1000 } } : {}),
      })),
      { id: 'release.token.p50', label: 'release → token revoked at Vault: p50', value: token.releaseToRevoked.p50, unit: 'ms' },
      { id: 'release.token.p99', label: 'release → token revoked at Vault: p99', value: token.releaseToRevoked.p99, unit: 'ms', target: { op: '<=', value: 20 } },
      { id: 'release.db.default.p50', label: "release → token + lease revoked, role dropped, Vault's default revocation SQL: p50", value: db.releaseToRevoked.p50, unit: 'ms' },
      { id: 'release.db.default.p99', label: "release → token + lease revoked, role dropped, Vault's default revocation SQL: p99", value: db.releaseToRevoked.p99, unit: 'ms' },
      { id: 'direct.revoke.db.p50', label: "direct node-vault revoke (token + lease), default revocation SQL: p50", value: directDb.revoke.p50, unit: 'ms' },
      { id: 'direct.revoke.db.p99', label: "direct node-vault revoke (token + lease), default revocation SQL: p99", value: directDb.revoke.p99, unit: 'ms' },
      { id: 'pg.role-drop.p50', label: "PostgreSQL alone: Vault's default role revocation SQL: p50", value: roleDrop.p50, unit: 'ms' },
      { id: 'pg.role-drop.p99', label: "PostgreSQL alone: Vault's default role revocation SQL: p99", value: roleDrop.p99, unit: 'ms' },
      { id: 'release.db.p50', label: 'release → token + lease revoked, role dropped (revocation_statements: DROP OWNED, DROP ROLE): p50', value: dbFast.releaseToRevoked.p50, unit: 'ms' },
      { id: 'release.db.p99', label: 'release → token + lease revoked, role dropped (revocation_statements: DROP OWNED, DROP ROLE): p99', value: dbFast.releaseToRevoked.p99, unit: 'ms', target: { op: '<=', value: 20 } },
      { id: 'direct.revoke.db.fast.p50', label: 'direct node-vault revoke (token + lease), same revocation_statements: p50', value: directDbFast.revoke.p50, unit: 'ms' },
      { id: 'pg.role-drop.fast.p50', label: 'PostgreSQL alone: DROP OWNED + DROP ROLE: p50', value: roleDropFast.p50, unit: 'ms' },
      { id: 'kill.p50', label: `step killed → token revoked: p50 (n=${kills.n})`, value: kills.p50, unit: 'ms' },
      { id: 'kill.max', label: `step killed → token revoked: max (n=${kills.n})`, value: kills.max, unit: 'ms', target: { op: '<=', value: 1000 } },
      { id: 'rss.idle', label: 'daemon RSS, idle after start', value: idleRss / MB, unit: 'MB' },
      { id: 'rss.pending', label: `daemon RSS with ${pending.count.toLocaleString('en-US')} pending requests`, value: pending.pendingRssBytes / MB, unit: 'MB' },
      {
        id: 'rss.pending.growth',
        label: `RSS growth for ${pending.count.toLocaleString('en-US')} pending requests`,
        value: pending.growthBytes / MB,
        unit: 'MB',
        ...(pending.count >= 10_000 ? { target: { op: '<=', value: 50 } } : {}),
      },
      { id: 'rss.pending.per-request', label: 'RSS per pending request', value: pending.perRequestBytes / 1024, unit: 'KiB' },
      { id: 'cold-start.p50', label: `cold start → health SERVING: p50 (n=${cold.n})`, value: cold.p50, unit: 'ms', target: { op: '<=', value: 500 } },
      { id: 'cold-start.max', label: `cold start → health SERVING: max (n=${cold.n})`, value: cold.max, unit: 'ms' },
      { id: 'audit.batched', label: `audit appends with fsync, ${AUDIT_IN_FLIGHT} in flight (group commit)`, value: audit.batchedPerSecond, unit: '/s', target: { op: '>=', value: 5000 } },
      { id: 'audit.sequential', label: 'audit appends with fsync, one at a time', value: audit.sequentialPerSecond, unit: '/s' },
    );
  } finally {
    closeVaultProbe();
    for (const d of daemons) await d.stop().catch(() => undefined);
    await vault.stop();
    await rm(root, { recursive: true, force: true });
  }
  return {
    command: runtime === 'dist' ? `npm run bench${quick ? ' -- --quick' : ''}` : `node --import tsx bench/run.ts${quick ? ' --quick' : ''}`,
    daemon: runtime,
    mode: quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationSeconds: elapsedMs(runStart) / 1000,
    machine: machineInfo(),
    figures: figures.map((f) => ({ ...f, pass: passes(f) })),
    details,
  };
}

const results = await main();
const out = resolve(values.out);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(renderTable(results));
process.stderr.write(`bench: results written to ${out}\n`);
