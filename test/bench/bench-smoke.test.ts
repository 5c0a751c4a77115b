import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every figure of the brief's performance table (and the list), by id. */
const EXPECTED_FIGURES = [
  'grant.token.p50',
  'grant.token.p90',
  'grant.token.p99',
  'grant.token.max',
  'direct.token.p50',
  'direct.token.p99',
  'ratio.token.p50',
  'grant.db.p50',
  'grant.db.p99',
  'direct.db.p50',
  'ratio.db.p50',
  'floor.token.p50',
  'floor.db.p50',
  'ratio.floor.token.p50',
  'ratio.floor.db.p50',
  'throughput.c1',
  'throughput.c16',
  'throughput.c64',
  'release.token.p50',
  'release.token.p99',
  'release.db.p50',
  'release.db.p99',
  'release.db.default.p50',
  'release.db.default.p99',
  'direct.revoke.db.fast.p50',
  'pg.role-drop.fast.p50',
  'direct.revoke.db.p50',
  'direct.revoke.db.p99',
  'pg.role-drop.p50',
  'pg.role-drop.p99',
  'kill.p50',
  'kill.max',
  'rss.idle',
  'rss.pending',
  'rss.pending.growth',
  'rss.pending.per-request',
  'cold-start.p50',
  'audit.batched',
] as const;

/** Figures that carry a target from the brief's performance table. */
const TARGETED = ['ratio.floor.token.p50', 'ratio.floor.db.p50', 'grant.token.p50', 'grant.token.p99', 'ratio.token.p50', 'throughput.c64', 'release.token.p99', 'kill.max', 'cold-start.p50', 'audit.batched'];

interface Figure {
  id: string;
  label: string;
  value: number;
  unit: string;
  target?: { op: string; value: number };
  pass: boolean | null;
}

interface Results {
  mode: string;
  machine: { cpus: number; cpuModel: string; node: string };
  figures: Figure[];
}

describe('npm run bench -- --quick', () => {
  let dir: string;
  let stdout = '';
  let stderr = '';
  let code: number | null = null;
  let results: Results;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-bench-test-'));
    const out = join(dir, 'results.json');
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', out], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    results = code === 0 ? (JSON.parse(await readFile(out, 'utf8')) as Results) : ({ mode: '', machine: { cpus: 0, cpuModel: '', node: '' }, figures: [] });
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0', () => {
    assert.equal(code, 0, `bench failed:\n${stderr.slice(-3000)}`);
  });

  it('reports the machine: CPU count, model and Node version', () => {
    assert.equal(results.mode, 'quick');
    assert.ok(Number.isInteger(results.machine.cpus) && results.machine.cpus > 0);
    assert.ok(results.machine.cpuModel.length > 0);
    assert.equal(results.machine.node, process.version);
    assert.match(stdout, new RegExp(`${results.machine.cpus} × .*Node ${process.version.replace(/\./g, '\\.')}`));
  });

  it('produces every figure as a finite number, with a unit and a label', () => {
    const byId = new Map(results.figures.map((f) => [f.id, f]));
    for (const id of EXPECTED_FIGURES) {
      const figure = byId.get(id);
      assert.ok(figure, `missing figure ${id}`);
      assert.equal(typeof figure.value, 'number', id);
      assert.ok(Number.isFinite(figure.value), `${id} is ${figure.value}`);
      assert.ok(figure.unit.length > 0 && figure.label.length > 0, id);
    }
  });

  it('puts each brief target next to its figure with a pass/miss mark, in the JSON and the table', () => {
    const byId = new Map(results.figures.map((f) => [f.id, f]));
    for (const id of TARGETED) {
      const figure = byId.get(id);
      assert.ok(figure?.target, `no target on ${id}`);
      assert.equal(typeof figure.pass, 'boolean', id);
      const row = stdout.split('\n').find((line) => line.startsWith(`| ${figure.label} |`));
      assert.ok(row, `no table row for ${id}`);
      assert.match(row, /\| (pass|\*\*MISS\*\*) \|$/, id);
    }
  });
});
