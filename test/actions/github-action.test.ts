/**
 * The GitHub Action (actions/request-access), run from its committed bundle the way the runner
 * runs it: `pre`, `main` and `post` as separate node processes with the runner's environment,
 * against a real jitgated (OIDC trust, the Vault stand-in) and a stand-in token-request endpoint.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parse } from 'yaml';
import { type CiIssuer } from '../support/ci-issuer.js';
import { DaemonProcess, eventually, Proc, roleExists, ROOT, type CliResult } from '../support/daemon-process.js';
import type { VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { startCiDaemon, type CiDaemon } from '../support/ci-daemon.js';
import { DIST, GithubJob, parseFileCommands } from './github-job.js';

const POLICIES = `
  - name: token-from-main
    match: { resource: demo-token, repository: acme/api, repository_id: "42", ref: refs/heads/main, ref_type: branch, environment: production }
    decision: auto-approve
  - name: db-from-main
    match: { resource: demo-db, repository: acme/api, repository_id: "42", ref: refs/heads/main, ref_type: branch, environment: production }
    decision: auto-approve
  - name: token-from-release-needs-sre
    match: { resource: demo-token, repository: acme/api, repository_id: "42", ref: refs/heads/release, ref_type: branch, environment: production }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

type AuditRecord = { type: string; [k: string]: unknown };

describe('GitHub Action actions/request-access (bundle, real daemon)', () => {
  let ci: CiDaemon;
  let env: VaultWithDatabase;
  let issuer: CiIssuer;
  let daemon: DaemonProcess;
  let out: string;

  before(async () => {
    ci = await startCiDaemon({ policies: POLICIES, kind: 'github', tmpPrefix: 'jitgate-action-' });
    ({ env, issuer, daemon, out } = ci);
  });
  after(async () => {
    await ci.close();
  });

  function job(name: string, inputs: Record<string, string>, dist?: string): Promise<GithubJob> {
    issuer.actions.claims = {};
    return GithubJob.create(out, name, issuer, { socket: daemon.socket, ...inputs }, dist);
  }

  async function tokenAlive(token: string): Promise<boolean> {
    const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } });
    await res.body?.cancel();
    return res.status === 200;
  }

  async function revocation(grantId: string): Promise<AuditRecord | undefined> {
    return (await daemon.audit()).find((r) => r.type === 'grant.revoked' && r.grantId === grantId);
  }

  /** Every value may show only inside the `::add-mask::` commands of main's stdout. */
  function assertOnlyMasked(values: readonly string[], main: CliResult, elsewhere: Record<string, string>): void {
    for (const value of values) {
      for (const line of main.stdout.split('\n')) {
        if (line.includes(value)) assert.ok(line.startsWith('::add-mask::'), 'a credential shows outside ::add-mask:: in main stdout');
      }
      assert.ok(!main.stderr.includes(value), 'a credential shows in main stderr');
      for (const [where, text] of Object.entries(elsewhere)) assert.ok(!text.includes(value), `a credential shows in ${where}`);
    }
  }

  async function holderLog(j: GithubJob): Promise<string> {
    const state = await j.loadState();
    return readFile(join(state.dir ?? '', 'holder.log'), 'utf8');
  }

  it('grants: masks every value before anything else, exports it via GITHUB_ENV, and post releases it at Vault', async () => {
    const j = await job('grant', { resource: 'demo-token', reason: 'deploy', ttl: '60s' });
    const main = await j.run('main');
    assert.equal(main.code, 0, main.stdout + main.stderr);
    const exported = await j.exported();
    const token = exported.VAULT_TOKEN ?? '';
    assert.ok(token.length > 10);
    assert.equal(await tokenAlive(token), true, 'the exported token works while the job runs');

    const lines = main.stdout.trim().split('\n');
    const maskAt = lines.indexOf(`::add-mask::${token}`);
    const grantedAt = lines.findIndex((l) => l.startsWith('jitgate: granted demo-token'));
    assert.ok(maskAt >= 0 && grantedAt > maskAt, main.stdout);
    assert.match(lines[grantedAt] ?? '', /exported VAULT_TOKEN \(masked\)/);

    const state = await j.loadState();
    assert.match(state.pid ?? '', /^\d+$/);
    assert.match(state.grant_id ?? '', /.+/);
    const outputs = parseFileCommands(await j.file('output'));
    assert.equal(outputs.grant_id, state.grant_id);
    assert.ok(Date.parse(outputs.expires_at ?? '') > Date.now());

    // A later step runs with the exported env, long after main has exited: the grant is still held.
    const step = await new Proc(
      spawn('bash', ['-c', 'test -n "$VAULT_TOKEN" && echo "step sees a token of ${#VAULT_TOKEN} characters"'], { env: await j.stepEnv(), stdio: ['ignore', 'pipe', 'pipe'] }),
    ).exited;
    assert.equal(step.code, 0, step.stderr);
    assert.equal(await tokenAlive(token), true);

    const log = await holderLog(j);
    const post = await j.run('post');
    assert.equal(post.code, 0, post.stdout + post.stderr);
    assert.match(post.stdout, new RegExp(`jitgate: released grant ${state.grant_id ?? ''}`));
    assert.equal(await tokenAlive(token), false, 'post revoked the token');
    assert.equal((await revocation(state.grant_id ?? ''))?.reason, 'released');
    assert.equal(existsSync(state.dir ?? ''), false, 'post removed the holder directory');
    assert.deepEqual(await readdir(join(j.dir, 'runner-temp')), []);

    assertOnlyMasked([token], main, { 'GITHUB_STATE': await j.file('state'), 'GITHUB_OUTPUT': await j.file('output'), 'holder log': log, 'post output': post.stdout + post.stderr, 'the later step': step.stdout + step.stderr });
  });

  it('database credentials, bundle copied out of the checkout: a PostgreSQL login works with the exported PGUSER/PGPASSWORD; after post the role is gone', async () => {
    // Only dist/ itself: the bundles must need nothing from the repository (proto files included).
    const standalone = join(out, 'standalone-action', 'dist');
    await cp(DIST, standalone, { recursive: true });
    const j = await job('db', { resource: 'demo-db' }, standalone);
    const main = await j.run('main');
    assert.equal(main.code, 0, main.stdout + main.stderr);
    const { PGUSER: user = '', PGPASSWORD: password = '' } = await j.exported();
    for (const value of [user, password]) assert.ok(main.stdout.split('\n').includes(`::add-mask::${value}`));
    const client = new pg.Client({ host: env.pg.host, port: env.pg.port, user, password, database: 'postgres' });
    await client.connect();
    assert.equal((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
    await client.end();
    const log = await holderLog(j);
    const post = await j.run('post');
    assert.equal(post.code, 0, post.stdout);
    assert.equal(await eventually(async () => !(await roleExists(env, user)), 5_000), true, 'the database role is dropped');
    assertOnlyMasked([user, password], main, { GITHUB_STATE: await j.file('state'), 'holder log': log, 'post output': post.stdout + post.stderr });
  });

  it('without `permissions: id-token: write` main fails with one line saying exactly that, and starts nothing', async () => {
    const j = await job('no-permission', { resource: 'demo-token' });
    const noToken = { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };
    for (const entry of ['pre', 'main'] as const) {
      const result = await j.run(entry, noToken);
      assert.equal(result.code, 1, entry);
      assert.equal(result.stderr, '');
      const lines = result.stdout.trim().split('\n');
      assert.equal(lines.length, 1, result.stdout);
      assert.match(lines[0] ?? '', /^::error::jitgate: the job has no OIDC token: add `permissions: id-token: write` to the job/);
    }
    assert.equal(await j.file('state'), '');
    assert.equal(await j.file('env'), '');
    assert.deepEqual(await readdir(join(j.dir, 'runner-temp')), []);
    const post = await j.run('post');
    assert.equal(post.code, 0);
    assert.match(post.stdout, /nothing to release/);
  });

  it('pre passes a well-formed job and refuses a bad ttl', async () => {
    const good = await job('pre-good', { resource: 'demo-token' });
    const ok = await good.run('pre');
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout + ok.stderr, '');
    const bad = await job('pre-bad', { resource: 'demo-token', ttl: 'soon' });
    const refused = await bad.run('pre');
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /^::error::jitgate: ttl: invalid duration "soon"/);
  });

  it('a denied request fails main with the reason; nothing is exported', async () => {
    const j = await job('denied', { resource: 'demo-token' });
    issuer.actions.claims = { ref: 'refs/heads/feature/x' };
    const main = await j.run('main', { GITHUB_REF: 'refs/heads/feature/x' });
    assert.equal(main.code, 1);
    assert.match(main.stdout, /^::error::jitgate: .*denied/m);
    assert.equal(await j.file('env'), '');
    const post = await j.run('post');
    assert.equal(post.code, 0);
    assert.match(post.stdout, /nothing to release/);
  });

  it('the job fails after the grant: post still runs (post-if: always()) and releases', async () => {
    const j = await job('job-fails', { resource: 'demo-token' });
    const main = await j.run('main');
    assert.equal(main.code, 0, main.stdout);
    const token = (await j.exported()).VAULT_TOKEN ?? '';
    const failing = await new Proc(spawn('bash', ['-c', 'test -n "$VAULT_TOKEN"; exit 3'], { env: await j.stepEnv(), stdio: ['ignore', 'pipe', 'pipe'] })).exited;
    assert.equal(failing.code, 3);
    assert.equal(await tokenAlive(token), true, 'the failed step does not end the grant by itself');
    const post = await j.run('post');
    assert.equal(post.code, 0, post.stdout);
    assert.match(post.stdout, /released grant/);
    assert.equal(await tokenAlive(token), false);
  });

  it('the holder killed -9: the daemon revokes on the broken stream; post reports it and succeeds', async () => {
    const j = await job('holder-killed', { resource: 'demo-token' });
    const main = await j.run('main');
    assert.equal(main.code, 0, main.stdout);
    const token = (await j.exported()).VAULT_TOKEN ?? '';
    const state = await j.loadState();
    process.kill(Number(state.pid), 'SIGKILL');
    assert.equal(await eventually(async () => !(await tokenAlive(token)), 10_000), true, 'revoked without any release call');
    // Vault answers the revocation before its result record is durable: wait for the record too.
    assert.equal(await eventually(async () => (await revocation(state.grant_id ?? '')) !== undefined, 10_000), true, 'revocation audited');
    assert.equal((await revocation(state.grant_id ?? ''))?.reason, 'requester disconnected');
    const post = await j.run('post');
    assert.equal(post.code, 0, post.stdout);
    assert.match(post.stdout, /^::warning::jitgate: the holder of grant .* was gone; jitgated revoked the grant when its stream broke/m);
  });

  it('cancelled while waiting for approval: main stops, the pending request is cancelled, post has nothing left', async () => {
    const j = await job('cancelled', { resource: 'demo-token', reason: 'hotfix' });
    issuer.actions.claims = { ref: 'refs/heads/release' };
    const main = j.start('main', { GITHUB_REF: 'refs/heads/release' });
    const [, requestId = ''] = await main.waitFor(/request (\S+) for demo-token is waiting for 1 approval/);
    main.child.kill('SIGTERM');
    const result = await main.exited;
    assert.equal(result.code, 1);
    assert.match(result.stdout, /::error::jitgate: SIGTERM received; request cancelled/);
    assert.equal(await j.file('env'), '');
    const pid = Number((await j.loadState()).pid);
    assert.equal(await eventually(() => Promise.resolve(!processAlive(pid)), 5_000), true, 'the holder exits');
    const records = await daemon.audit();
    assert.ok(records.some((r) => r.requestId === requestId && r.type === 'request.denied' && r.reason === 'cancelled by the requester'), 'the daemon dropped the request');
    assert.ok(!records.some((r) => r.type === 'grant.minted' && r.requestId === requestId));
    const post = await j.run('post');
    assert.equal(post.code, 0);
    assert.match(post.stdout, /request cancelled/);
  });

  it('action.yml: node20 with pre/main/post, post-if always(), the documented inputs', async () => {
    const action = parse(await readFile(join(ROOT, 'actions/request-access/action.yml'), 'utf8')) as {
      inputs: Record<string, { required?: boolean; default?: string }>;
      runs: Record<string, string>;
    };
    assert.deepEqual(action.runs, { using: 'node20', pre: 'dist/pre.js', main: 'dist/main.js', post: 'dist/post.js', 'post-if': 'always()' });
    assert.deepEqual(Object.keys(action.inputs).sort(), ['audience', 'reason', 'resource', 'socket', 'ttl']);
    assert.equal(action.inputs.resource?.required, true);
    assert.equal(action.inputs.audience?.default, 'jitgate');
    assert.equal(action.inputs.socket?.default, '/run/jitgated/jitgated.sock');
    for (const file of ['pre.js', 'main.js', 'post.js', 'hold.js', 'proto/jitgate/v1/access.proto']) assert.ok(existsSync(join(ROOT, 'actions/request-access/dist', file)), file);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
