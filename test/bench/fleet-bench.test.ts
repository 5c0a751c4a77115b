import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** bench/fleet.ts --quick: 200 pending in total, a quarter on each of the 4 fleet daemons. */
const QUICK_PENDING = 200;
const FLEET_NODES = ['fleet-1', 'fleet-2', 'fleet-3', 'fleet-4'];

/** Every row of issue 13's acceptance line 8, by id. */
const EXPECTED_FIGURES = [
  // (1) single-host SQLite, the baseline
  'sqlite.grant.p50',
  'sqlite.grant.p99',
  // (2) fleet mode, 1 daemon on PostgreSQL, and the ratio to (1)
  'fleet.grant.p50',
  'fleet.grant.p99',
  'ratio.grant.p50',
  'ratio.grant.p99',
  // (3) all pending on 1 fleet daemon
  'fleet1.pending.growth',
  'fleet1.pending.per-request',
  'fleet1.pending.idle',
  'fleet1.pending.in-database',
  // (4) 4 fleet daemons on one database
  'fleet4.pending.growth.mean',
  'fleet4.pending.growth.max',
  'fleet4.pending.growth.total',
  'fleet4.pending.per-request',
  'fleet4.pending.idle',
  'fleet4.pending.in-database',
  // single-host SQLite pending, for comparison
  'sqlite.pending.growth',
  'sqlite.pending.per-request',
  'sqlite.pending.idle',
] as const;

interface Figure {
  id: string;
  label: string;
  value: number;
  unit: string;
}

interface PendingRun {
  perDaemon: { node: string; count: number; idleRssBytes: number; pendingRssBytes: number }[];
  pendingInDatabase: Record<string, number>;
}

interface Results {
  mode: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  figures: Figure[];
  details: { grants: { sqlite: { grant: { n: number } }; fleet: { grant: { n: number } } }; pending: { fleetOne: PendingRun; fleetFour: PendingRun; sqlite: PendingRun } };
}

describe('bench/fleet.ts --quick', () => {
  let dir: string;
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  let results: Results | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-bench-fleet-test-'));
    const out = join(dir, 'fleet.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/fleet.ts', '--quick', '--daemon', 'tsx', '--out', out], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code === 0) results = JSON.parse(await readFile(out, 'utf8')) as Results;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 and writes its JSON', () => {
    assert.equal(code, 0, `bench:fleet failed:\n${stderr.slice(-3000)}`);
    assert.ok(results);
    assert.equal(results.mode, 'quick');
  });

  it('states the machine: cores, model, Node and the load average at start and end, in the JSON and the table', () => {
    assert.ok(results);
    const m = results.machine;
    assert.ok(Number.isInteger(m.cpus) && m.cpus > 0);
    assert.ok(m.cpuModel.length > 0);
    assert.equal(m.node, process.version);
    for (const l of [m.loadAverageAtStart, m.loadAverageAtEnd]) {
      assert.equal(l.length, 3);
      assert.ok(l.every((x) => Number.isFinite(x) && x >= 0));
    }
    assert.match(stdout, new RegExp(`${m.cpus} × .*Node ${process.version.replace(/\./g, '\\.')}`));
    assert.match(stdout, /^load average \(1, 5, 15 min\): [\d., ]+ at the start, [\d., ]+ at the end$/m);
  });

  it('reports every row as a finite positive number, in the JSON and as a table row', () => {
    assert.ok(results);
    const byId = new Map(results.figures.map((f) => [f.id, f]));
    for (const id of EXPECTED_FIGURES) {
      const figure = byId.get(id);
      assert.ok(figure, `missing figure ${id}`);
      assert.ok(Number.isFinite(figure.value) && figure.value > 0, `${id} is ${figure.value}`);
      assert.ok(figure.unit.length > 0 && figure.label.length > 0, id);
      assert.ok(stdout.split('\n').some((line) => line.startsWith(`| ${figure.label} |`)), `no table row for ${id}`);
    }
  });

  it('the ratio rows are fleet over SQLite of the same run', () => {
    assert.ok(results);
    const v = (id: string): number => results?.figures.find((f) => f.id === id)?.value ?? Number.NaN;
    assert.ok(Math.abs(v('ratio.grant.p50') - v('fleet.grant.p50') / v('sqlite.grant.p50')) < 1e-9);
    assert.ok(Math.abs(v('ratio.grant.p99') - v('fleet.grant.p99') / v('sqlite.grant.p99')) < 1e-9);
    assert.ok(results.details.grants.sqlite.grant.n > 0 && results.details.grants.fleet.grant.n === results.details.grants.sqlite.grant.n);
  });

  it('holds every pending request at once: the 4 fleet daemons share the total, and the database had them all when RSS was read', () => {
    assert.ok(results);
    const { fleetOne, fleetFour, sqlite } = results.details.pending;
    assert.deepEqual(fleetOne.perDaemon.map((p) => p.count), [QUICK_PENDING]);
    assert.deepEqual(fleetOne.pendingInDatabase, { 'fleet-solo': QUICK_PENDING });
    assert.deepEqual(fleetFour.perDaemon.map((p) => p.node), FLEET_NODES);
    assert.deepEqual(fleetFour.perDaemon.map((p) => p.count), FLEET_NODES.map(() => QUICK_PENDING / 4));
    assert.deepEqual(fleetFour.pendingInDatabase, Object.fromEntries(FLEET_NODES.map((n) => [n, QUICK_PENDING / 4])));
    assert.deepEqual(sqlite.perDaemon.map((p) => p.count), [QUICK_PENDING]);
    const v = (id: string): number => results?.figures.find((f) => f.id === id)?.value ?? Number.NaN;
    assert.equal(v('fleet1.pending.in-database'), QUICK_PENDING);
    assert.equal(v('fleet4.pending.in-database'), QUICK_PENDING);
    // Per-daemon growth is each daemon's own loaded RSS minus its own idle RSS.
    const growth = fleetFour.perDaemon.map((p) => p.pendingRssBytes - p.idleRssBytes);
    assert.ok(Math.abs(v('fleet4.pending.growth.max') - Math.max(...growth) / 2 ** 20) < 1e-9);
  });
});
