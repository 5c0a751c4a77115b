import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { vaultLeftovers } from '../../bench/soak-leaks.js';
import { CSV_COLUMNS } from '../../bench/soak-sample.js';
import { startVaultServer, type VaultTestServer } from '../../tools/vault-compat/src/server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once('close', (code) => { resolve({ code, stdout, stderr }); }));
}

describe('soak leak check (vaultLeftovers) against the Vault-compatible server', () => {
  let vault: VaultTestServer;
  before(async () => {
    vault = await startVaultServer();
  });
  after(async () => {
    await vault.close();
  });

  const call = async (path: string, body: unknown): Promise<unknown> => {
    const res = await fetch(`${vault.address}/v1/${path}`, {
      method: 'POST',
      headers: { 'X-Vault-Token': vault.rootToken, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.status < 300, `${path}: ${res.status}`);
    return res.status === 204 ? null : await res.json();
  };

  it('reports no token but the root one, then the accessor of a token left alive, then none once it is revoked', async () => {
    assert.deepEqual(await vaultLeftovers(vault.address, vault.rootToken), { tokens: [], leases: [] });
    const created = (await call('auth/token/create', { policies: ['default'], ttl: '60s' })) as { auth: { accessor: string } };
    const left = await vaultLeftovers(vault.address, vault.rootToken);
    assert.deepEqual(left.tokens, [created.auth.accessor]);
    await call('auth/token/revoke-accessor', { accessor: created.auth.accessor });
    assert.deepEqual((await vaultLeftovers(vault.address, vault.rootToken)).tokens, []);
  });

  it('throws rather than reporting "no leak" when the server refuses the listing', async () => {
    await assert.rejects(vaultLeftovers(vault.address, 'hvs.not-a-token'), /HTTP 403/);
  });
});

describe('npm run soak, CI-sized (30 s of load, a sample every 2 s)', () => {
  let dir: string;
  let result: { code: number | null; stdout: string; stderr: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-soak-test-'));
    // Thresholds are loose here: 30 s is mostly warm-up. The verdict itself is unit-tested in
    // soak-verdict.test.ts; this proves the harness end to end.
    result = await run([
      '--minutes', '0.5', '--sample-seconds', '2', '--rate', '10',
      '--pending-every-seconds', '2', '--pending-expires-seconds', '3',
      '--max-rss-mb-per-min', '500', '--max-fds-per-min', '500', '--out-dir', dir,
    ]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 0 with no leaked token or lease and no failed request', async () => {
    assert.equal(result.code, 0, `soak failed:\n${result.stdout}\n${result.stderr.slice(-3000)}`);
    const summary = JSON.parse(await readFile(join(dir, 'soak-summary.json'), 'utf8')) as {
      ok: boolean; leakedTokens: number; leakedLeases: number; counts: { grants: number; denied: number; expired: number; errors: number };
    };
    assert.equal(summary.ok, true);
    assert.equal(summary.leakedTokens, 0);
    assert.equal(summary.leakedLeases, 0);
    assert.equal(summary.counts.errors, 0);
    assert.ok(summary.counts.grants >= 200, `only ${summary.counts.grants} grants`);
    assert.ok(summary.counts.denied >= 1 && summary.counts.expired >= 1, JSON.stringify(summary.counts));
    assert.match(result.stdout, /\| tokens left at Vault .* \| 0 \| ok \|/);
  });

  it('writes a CSV with a row per sample: RSS, heap and fds read, grants counted up', async () => {
    const [header, ...rows] = (await readFile(join(dir, 'soak.csv'), 'utf8')).trim().split('\n');
    assert.equal(header, CSV_COLUMNS.join(','));
    assert.ok(rows.length >= 12, `${rows.length} samples`);
    const parsed = rows.map((r) => r.split(',').map(Number));
    let lastGrants = -1;
    for (const [seconds, rss, heap, lag, fds, state, grants] of parsed) {
      assert.ok(seconds !== undefined && seconds >= 0);
      assert.ok(rss !== undefined && rss > 10 * 2 ** 20, `RSS ${rss}`);
      assert.ok(heap !== undefined && heap > 0 && heap < rss, `heap ${heap}`);
      assert.ok(lag !== undefined && Number.isFinite(lag));
      assert.ok(fds !== undefined && fds > 3, `fds ${fds}`);
      assert.ok(state !== undefined && state > 0);
      assert.ok(grants !== undefined && grants >= lastGrants);
      lastGrants = grants;
    }
    assert.ok(lastGrants > 0);
  });

  it('writes an SVG with RSS, heap, fd and event-loop polylines, one point per sample', async () => {
    const svg = await readFile(join(dir, 'soak.svg'), 'utf8');
    const rows = (await readFile(join(dir, 'soak.csv'), 'utf8')).trim().split('\n').length - 1;
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    const lines = [...svg.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' '));
    assert.equal(lines.length, 4);
    for (const points of lines) assert.equal(points.length, rows);
    for (const label of ['RSS', 'V8 heap used', 'fds', 'p99']) assert.ok(svg.includes(`— ${label}<`), label);
  });

  it('rejects a bad flag naming it, before starting anything', async () => {
    const bad = await run(['--rate', 'fast']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--rate must be a number > 0, not "fast"/);
  });
});
