import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ROOT } from '../support/daemon-process.js';

const ROWS = [
  'requests in a final state',
  'grants revoked in state',
  'Vault tokens still live (of those granted)',
  'Vault leases still live (of those granted)',
  'minted database roles that can log in',
  '`jitgate audit verify` on the audit log',
  'minted secrets found in logs/stdout/stderr/audit',
  'unexpected process exits',
];

function chaos(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', '-s', 'chaos', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('close', (code) => { resolve({ code, out }); });
  });
}

/** The table's result column per check. */
function results(out: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of out.split('\n')) {
    const cells = /^\| (.+) \| (.*) \| (pass|FAIL) \|$/.exec(line);
    if (cells?.[1] !== undefined && cells[3] !== undefined) rows.set(cells[1], cells[3]);
  }
  return rows;
}

describe('npm run chaos (CI-sized, fixed seeds)', { timeout: 600_000 }, () => {
  it('75 s of steps and faults with seed 7: every check passes and every fault and step kind happened', { timeout: 600_000 }, async () => {
    const { code, out } = await chaos(['--minutes', '1.25', '--seed', '7']);
    assert.equal(code, 0, out);
    const rows = results(out);
    assert.deepEqual([...rows.keys()], ROWS, out);
    for (const [check, result] of rows) assert.equal(result, 'pass', `${check}:\n${out}`);
    const summary = /client steps \(release (\d+), abandon (\d+), cancel (\d+), abandon-pending (\d+), approve (\d+)\).*approved via CLI (\d+); faults: daemon SIGKILL (\d+), Vault SIGKILL (\d+), PostgreSQL frozen (\d+)/.exec(out);
    assert.ok(summary, out);
    for (const n of summary.slice(1)) assert.ok(Number(n) > 0, `every step kind, approval and fault happened:\n${summary[0]}`);
    assert.match(out, /chaos: all checks passed/);
  });

  it('the checks catch a token, lease, login and logged password leaked behind the daemon (--plant-leak)', { timeout: 600_000 }, async () => {
    const { code, out } = await chaos(['--minutes', '0.2', '--seed', '3', '--plant-leak']);
    assert.equal(code, 1, out);
    const rows = results(out);
    assert.equal(rows.get('Vault tokens still live (of those granted)'), 'FAIL', out);
    assert.equal(rows.get('Vault leases still live (of those granted)'), 'FAIL', out);
    assert.equal(rows.get('minted database roles that can log in'), 'FAIL', out);
    assert.equal(rows.get('minted secrets found in logs/stdout/stderr/audit'), 'FAIL', out);
    assert.equal(rows.get('requests in a final state'), 'pass', out);
    const kept = /replay with: npm run chaos -- --minutes 0\.2 --seed 3 --clients 3 --plant-leak; logs kept in (\S+)/.exec(out);
    assert.ok(kept?.[1], out);
    await rm(kept[1], { recursive: true, force: true });
  });
});
