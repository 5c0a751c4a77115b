/**
 * The whole flow through the real binaries: jitgated as a process on a temp socket, `jitgate` as
 * processes, the Vault-compatible server and a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  accessorAlive,
  cli,
  DaemonProcess,
  eventually,
  fileExists,
  leaseAlive,
  roleExists,
  startCli,
  STEP,
  transcript,
  contextFlags,
} from '../support/daemon-process.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: demo-db-from-main
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/main }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: demo-db-from-release
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/release }
    require: { approvals: 1, from: [group:sre], expires_after: 2s }
  - name: token-auto
    match: { resource: demo-token, repository: acme/api }
    decision: auto-approve
  - name: everything-else
    decision: deny`;

const CONTEXT = contextFlags();

interface Secrets {
  PGUSER?: string;
  PGPASSWORD?: string;
  VAULT_TOKEN?: string;
}

describe('end to end: jitgated + jitgate', () => {
  let env: VaultWithDatabase;
  let daemon: DaemonProcess;
  let out: string;
  const minted: string[] = [];
  const auditTexts: string[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    daemon = await DaemonProcess.start({ vaultEnv: env, policies: POLICIES, extraConfig: 'http: { listen: "127.0.0.1:0" }' });
    out = await mkdtemp(join(tmpdir(), 'jitgate-step-'));
  });
  after(async () => {
    await daemon.close();
    await env.stop();
    await rm(out, { recursive: true, force: true });
  });

  async function stepDir(name: string): Promise<string> {
    const dir = join(out, name);
    await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }));
    return dir;
  }

  async function secretsOf(dir: string): Promise<Secrets> {
    const secrets = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as Secrets;
    for (const value of [secrets.PGPASSWORD, secrets.VAULT_TOKEN]) if (value) minted.push(value);
    return secrets;
  }

  function stepEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...daemon.env, OUT_DIR: dir, PGHOST: env.pg.host, PGPORT: String(env.pg.port), ...extra };
  }

  it('1: waits for approval, runs the command with working credentials, revokes everything after', async () => {
    const dir = await stepDir('approve');
    const run = startCli(['run', '--resource', 'demo-db', '--reason', 'migrate', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir));
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    assert.equal(fileExists(join(dir, 'ran')), false, 'nothing runs before approval');
    const shown = await cli(['show', id, '--json', '--as', 'bob'], daemon.env);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, 'pending');

    const approved = await cli(['approve', id, '--as', 'bob'], daemon.env);
    assert.equal(approved.code, 0, approved.stderr);
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /step: logged into PostgreSQL/);

    const secrets = await secretsOf(dir);
    assert.ok(secrets.PGUSER && secrets.PGPASSWORD);
    const [grant] = (await daemon.grants()).filter((g) => g.status === 'revoked');
    assert.ok(grant?.accessor);
    assert.equal(await accessorAlive(env, grant.accessor), false, 'the child token is gone');
    const [leaseId] = grant.leaseIds;
    assert.ok(leaseId);
    assert.equal(await leaseAlive(env, leaseId), false, 'the lease is gone');
    assert.equal(await roleExists(env, secrets.PGUSER), false, 'the PostgreSQL role is dropped');
  });

  it('2: deny → the command never runs, exit 77; expiry → exit 75', async () => {
    const dir = await stepDir('deny');
    const run = startCli(['run', '--resource', 'demo-db', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir));
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    const denied = await cli(['deny', id, '--reason', 'not today', '--as', 'bob'], daemon.env);
    assert.equal(denied.code, 0, denied.stderr);
    const result = await run.exited;
    assert.equal(result.code, 77);
    assert.match(result.stderr, /not today/);
    assert.equal(fileExists(join(dir, 'ran')), false);

    const expiredDir = await stepDir('expire');
    const releaseContext = CONTEXT.map((v) => (v === 'refs/heads/main' ? 'refs/heads/release' : v));
    const expiring = await cli(['run', '--resource', 'demo-db', ...releaseContext, '--', process.execPath, STEP], stepEnv(expiredDir));
    assert.equal(expiring.code, 75, expiring.stderr);
    assert.match(expiring.stderr, /expired/);
    assert.equal(fileExists(join(expiredDir, 'ran')), false);
  });

  it('3: the requester cannot approve their own request; it stays pending', async () => {
    const dir = await stepDir('self');
    const run = startCli(['run', '--resource', 'demo-db', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir));
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    const self = await cli(['approve', id, '--as', 'alice'], daemon.env);
    assert.notEqual(self.code, 0);
    assert.match(self.stderr, /own request/);
    const shown = await cli(['show', id, '--json', '--as', 'bob'], daemon.env);
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, 'pending');
    run.child.kill('SIGTERM');
    const result = await run.exited;
    assert.equal(fileExists(join(dir, 'ran')), false);
    assert.notEqual(result.code, 0);
  });

  it('terminal: `jitgate watch` shows a new request live and approves it from its prompt', async () => {
    const dir = await stepDir('watch');
    const watch = startCli(['watch', '--as', 'bob'], daemon.env, { stdin: 'pipe' });
    await watch.waitFor(/commands: approve ID/);
    const run = startCli(['run', '--resource', 'demo-db', '--reason', 'via watch', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir));
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    await watch.waitFor(new RegExp(`${id}\\s+pending`));
    watch.child.stdin?.write(`approve ${id} looks fine\n`);
    await watch.waitFor(new RegExp(`approved ${id}`));
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    await secretsOf(dir);
    watch.child.kill('SIGINT');
    const ended = await watch.exited;
    assert.equal(ended.code, 0, ended.stderr);
  });

  it('4: kill -9 of `jitgate run` while its command runs revokes token and lease within 1 s', async () => {
    const dir = await stepDir('kill');
    const run = startCli(['run', '--resource', 'demo-token', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir, { STEP_SLEEP_MS: '30000' }));
    assert.ok(await eventually(() => Promise.resolve(fileExists(join(dir, 'sleeping'))), 20_000));
    const secrets = await secretsOf(dir);
    const token = secrets.VAULT_TOKEN ?? '';
    const stepPid = Number(await readFile(join(dir, 'ran'), 'utf8'));
    run.child.kill('SIGKILL');
    const revoked = await eventually(async () => {
      const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } });
      await res.body?.cancel();
      return res.status === 403;
    }, 1000);
    process.kill(stepPid, 'SIGKILL');
    assert.equal(revoked, true, 'token revoked within 1 s of the kill');
  });

  it('7: Vault answering 503 during a mint denies with a reason, leaves nothing issued, and the daemon stays up', async () => {
    const dir = await stepDir('vault-down');
    env.vault.faults.fail('auth/token/create', 503);
    try {
      const result = await cli(['run', '--resource', 'demo-token', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir));
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /auth\/token\/create answered 503/);
      assert.equal(fileExists(join(dir, 'ran')), false);
    } finally {
      env.vault.faults.clear();
    }
    const live = (await daemon.grants()).filter((g) => g.status === 'live' || g.status === 'minting');
    assert.equal(live.length, 0);
    const after = await cli(['list', '--all', '--as', 'bob'], daemon.env);
    assert.equal(after.code, 0, 'daemon still serving');
  });

  it('10: bad input gets a clear error naming the field; the daemon keeps serving', async () => {
    const dir = await stepDir('bad');
    const unknown = await cli(['run', '--resource', 'nope', ...CONTEXT, '--', 'true'], stepEnv(dir));
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /resource.*unknown resource "nope"/);
    const newline = await cli(['run', '--resource', 'demo-token', ...CONTEXT.slice(0, 2), '--ref', 'refs/heads/main\nx', ...CONTEXT.slice(4), '--', 'true'], stepEnv(dir));
    assert.notEqual(newline.code, 0);
    assert.match(newline.stderr, /ref/);
    const huge = await cli(['run', '--resource', 'demo-token', '--reason', 'x'.repeat(100_000), ...CONTEXT, '--', 'true'], stepEnv(dir));
    assert.notEqual(huge.code, 0);
    assert.match(huge.stderr, /larger than max/);
    assert.equal(fileExists(join(dir, 'ran')), false);
    const badConfig = join(dir, 'bad.yaml');
    await writeFile(badConfig, (await readFile(daemon.configFile, 'utf8')).replace('resource: demo-db,', 'resource: demo-dbb,'));
    const check = await import('node:child_process').then(({ spawnSync }) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', 'check-config', badConfig], { encoding: 'utf8' }),
    );
    assert.notEqual(check.status, 0);
    assert.match(check.stderr, /policies\[0\]\.match\.resource: unknown resource "demo-dbb"/);
    const still = await cli(['list', '--as', 'bob'], daemon.env);
    assert.equal(still.code, 0);
  });

  it('11: two concurrent runs for different resources are granted and released independently', async () => {
    const a = await stepDir('concurrent-a');
    const b = await stepDir('concurrent-b');
    const first = startCli(['run', '--resource', 'demo-token', ...CONTEXT, '--', process.execPath, STEP], stepEnv(a, { STEP_SLEEP_MS: '1500' }));
    const second = startCli(['run', '--resource', 'demo-db', ...CONTEXT, '--', process.execPath, STEP], stepEnv(b));
    const [, id] = await second.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);
    assert.equal((await cli(['approve', id, '--as', 'bob'], daemon.env)).code, 0);
    const [r1, r2] = await Promise.all([first.exited, second.exited]);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r2.code, 0, r2.stderr);
    const sa = await secretsOf(a);
    const sb = await secretsOf(b);
    assert.ok(sa.VAULT_TOKEN && sb.PGUSER);
    assert.equal(await roleExists(env, sb.PGUSER), false);
  });

  it('17: a revocation Vault keeps failing is retried, then alerted in logs and metrics; health and metrics are served over HTTP', async () => {
    const [, address] = daemon.logs.match(/"http":"([^"]+)"/) ?? [];
    assert.ok(address, 'the daemon logs its HTTP address');
    const health = await fetch(`http://${address}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'SERVING\n');

    const dir = await stepDir('revoke-fails');
    env.vault.faults.fail('auth/token/revoke-accessor', 500);
    try {
      const result = await cli(['run', '--resource', 'demo-token', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir));
      assert.equal(result.code, 0, result.stderr);
      await secretsOf(dir);
    } finally {
      env.vault.faults.clear();
    }
    const text = await (await fetch(`http://${address}/metrics`)).text();
    assert.match(text, /jitgate_revocations_total\{result="failed"\} 1/);
    assert.match(text, /jitgate_request_outcomes_total\{outcome="granted",resource="demo-token"\} \d+/);
    assert.match(text, /jitgate_audit_healthy 1/);
    assert.match(daemon.logs, /"level":50[^\n]*revocation failed/);
    const failed = (await daemon.grants()).filter((g) => g.status === 'revoke_failed');
    assert.equal(failed.length, 1, 'kept for the sweeper; the TTL caps exposure meanwhile');
  });

  it('5: kill -9 of the daemon with a live grant; on restart the grant is revoked and both facts are audited', async () => {
    const dir = await stepDir('daemon-kill');
    const run = startCli(['run', '--resource', 'demo-token', ...CONTEXT, '--', process.execPath, STEP], stepEnv(dir, { STEP_SLEEP_MS: '30000' }));
    assert.ok(await eventually(() => Promise.resolve(fileExists(join(dir, 'sleeping'))), 20_000));
    const secrets = await secretsOf(dir);
    const stepPid = Number(await readFile(join(dir, 'ran'), 'utf8'));
    await daemon.stop('SIGKILL');
    const liveGrant = (await daemon.grants()).find((g) => g.status === 'live');
    assert.ok(liveGrant?.accessor, 'state shows the grant live after the crash');
    assert.equal(await accessorAlive(env, liveGrant.accessor), true, 'a SIGKILLed daemon revokes nothing');
    await daemon.launch();
    assert.equal(await accessorAlive(env, liveGrant.accessor), false, 'revoked at start-up');
    const records = await daemon.audit();
    assert.ok(records.some((r) => r.type === 'grant.minted' && r.grantId === liveGrant.id));
    assert.ok(records.some((r) => r.type === 'grant.revoked' && r.grantId === liveGrant.id && r.reason === 'orphaned at start-up'));
    process.kill(stepPid, 'SIGKILL');
    await run.exited;
    assert.ok(secrets.VAULT_TOKEN);
  });

  it('6: SIGTERM with a live grant and a pending request revokes, denies (shutdown) and exits 0', async () => {
    const live = await stepDir('term-live');
    const pend = await stepDir('term-pending');
    const running = startCli(['run', '--resource', 'demo-token', ...CONTEXT, '--', process.execPath, STEP], stepEnv(live, { STEP_SLEEP_MS: '30000' }));
    assert.ok(await eventually(() => Promise.resolve(fileExists(join(live, 'sleeping'))), 20_000));
    const secrets = await secretsOf(live);
    const stepPid = Number(await readFile(join(live, 'ran'), 'utf8'));
    const pending = startCli(['run', '--resource', 'demo-db', ...CONTEXT, '--', process.execPath, STEP], stepEnv(pend));
    await pending.waitFor(/(req_[a-z0-9]+)/);
    const started = Date.now();
    const stopped = await daemon.stop('SIGTERM');
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.ok(Date.now() - started < 10_000, 'within the stop timeout');
    const token = secrets.VAULT_TOKEN ?? '';
    const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } });
    await res.body?.cancel();
    assert.equal(res.status, 403);
    const pendingResult = await pending.exited;
    assert.equal(pendingResult.code, 77);
    assert.match(pendingResult.stderr, /shutdown/);
    assert.equal(fileExists(join(pend, 'ran')), false);
    process.kill(stepPid, 'SIGKILL');
    await running.exited;
    const records = await daemon.audit();
    assert.ok(records.some((r) => r.type === 'request.denied' && r.reason === 'shutdown'));
    await daemon.launch();
  });

  it('8: `jitgate audit verify` passes on the suite\'s log and names the first bad record after tampering', async () => {
    const text = await readFile(daemon.auditFile, 'utf8');
    auditTexts.push(text);
    const ok = await cli(['audit', 'verify', daemon.auditFile]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const lines = text.split('\n');
    const tamper = async (name: string, content: string): Promise<{ code: number | null; output: string }> => {
      const file = join(out, name);
      await writeFile(file, content);
      const res = await cli(['audit', 'verify', file]);
      return { code: res.code, output: res.stdout + res.stderr };
    };
    const byte = await tamper('byte.jsonl', text.replace('"type":"request.created"', '"type":"request.createD"'));
    assert.notEqual(byte.code, 0);
    assert.match(byte.output, /line \d+/);
    const deleted = await tamper('deleted.jsonl', [...lines.slice(0, 3), ...lines.slice(4)].join('\n'));
    assert.notEqual(deleted.code, 0);
    assert.match(deleted.output, /line 4\b/);
    const truncated = await tamper('truncated.jsonl', text.slice(0, text.length - 20));
    assert.notEqual(truncated.code, 0);
    assert.match(truncated.output, new RegExp(`line ${lines.filter(Boolean).length}\\b`));
  });

  it('9: the minted passwords and tokens appear nowhere: daemon logs, audit, CLI output, errors', async () => {
    assert.ok(minted.length >= 4, `collected ${minted.length} secrets`);
    const everything = [daemon.logs, ...auditTexts, await readFile(daemon.auditFile, 'utf8'), ...transcript].join('\n');
    assert.ok(everything.length > 1000);
    for (const secret of minted) {
      assert.equal(everything.includes(secret), false, 'a minted secret leaked into output');
    }
  });
});
