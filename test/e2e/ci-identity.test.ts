/**
 * Verified CI identity through the real binaries: the daemon trusts only the CI's OIDC token
 * (local trust mode off), and `jitgate run` fetches that token as a GitHub Actions job would.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CiIssuer } from '../support/ci-issuer.js';
import { cli, DaemonProcess, fileExists, ROOT, STEP } from '../support/daemon-process.js';
import { startCiDaemon, type CiDaemon } from '../support/ci-daemon.js';

const POLICIES = `
  - name: token-from-main
    match: { resource: demo-token, repository: acme/api, repository_id: "42", ref: refs/heads/main, ref_type: branch, environment: production }
    decision: auto-approve
  - name: everything-else
    decision: deny`;

describe('end to end: verified CI identity', () => {
  let ci: CiDaemon;
  let issuer: CiIssuer;
  let daemon: DaemonProcess;
  let out: string;

  before(async () => {
    ci = await startCiDaemon({ policies: POLICIES, kind: 'github', tmpPrefix: 'jitgate-ci-' });
    ({ issuer, daemon, out } = ci);
  });
  after(async () => {
    await ci.close();
  });

  async function dir(name: string): Promise<string> {
    const d = join(out, name);
    await mkdir(d, { recursive: true });
    return d;
  }

  it('8: inside a simulated GitHub Actions job, `jitgate run` gets its token for the configured audience and is granted', async () => {
    const d = await dir('actions');
    issuer.actions.claims = {};
    const result = await cli(['run', '--resource', 'demo-token', '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: d,
      ACTIONS_ID_TOKEN_REQUEST_URL: issuer.actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.actions.requestToken,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fileExists(join(d, 'ran')), true);
    assert.deepEqual(issuer.actions.audiences.at(-1), 'jitgate');
    const created = (await daemon.audit()).filter((r) => r.type === 'request.created').at(-1) as unknown as { trust: string; context: { ref: string; repositoryId: string } };
    assert.equal(created.trust, 'oidc');
    assert.equal(created.context.ref, 'refs/heads/main');
    assert.equal(created.context.repositoryId, '42');
  });

  it('8: without the token-request variables it exits 77 naming `id-token: write`, and nothing runs', async () => {
    const d = await dir('no-token');
    const result = await cli(['run', '--resource', 'demo-token', '--', process.execPath, STEP], { ...daemon.env, OUT_DIR: d });
    assert.equal(result.code, 77);
    assert.match(result.stderr, /id-token: write/);
    assert.equal(fileExists(join(d, 'ran')), false);
  });

  it('2: the client claims refs/heads/main but the token says refs/heads/feature/x → denied, both values audited', async () => {
    const d = await dir('mismatch');
    const tokenFile = join(d, 'token');
    await writeFile(tokenFile, await issuer.issue(issuer.githubClaims('jitgate', { ref: 'refs/heads/feature/x' })));
    const result = await cli(['run', '--resource', 'demo-token', '--id-token-file', tokenFile, '--ref', 'refs/heads/main', '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: d,
    });
    assert.equal(result.code, 77);
    assert.match(result.stderr, /ref claimed "refs\/heads\/main", token says "refs\/heads\/feature\/x"/);
    assert.equal(fileExists(join(d, 'ran')), false);
    const rejected = (await daemon.audit()).filter((r) => r.type === 'request.rejected').at(-1) as unknown as { mismatches: { field: string; claimed: string; verified: string }[] };
    assert.deepEqual(rejected.mismatches, [{ field: 'ref', claimed: 'refs/heads/main', verified: 'refs/heads/feature/x' }]);
  });

  it('1: a token for a feature branch or the tag refs/tags/main does not match the main-only rule', async () => {
    for (const [name, claims] of [
      ['feature', { ref: 'refs/heads/feature/x' }],
      ['tag', { ref: 'refs/tags/main', ref_type: 'tag' }],
      ['other-repo-id', { repository_id: '43' }],
    ] as const) {
      const d = await dir(name);
      const tokenFile = join(d, 'token');
      await writeFile(tokenFile, await issuer.issue(issuer.githubClaims('jitgate', claims)));
      const result = await cli(['run', '--resource', 'demo-token', '--id-token-file', tokenFile, '--', process.execPath, STEP], { ...daemon.env, OUT_DIR: d });
      assert.equal(result.code, 77, `${name}: ${result.stderr}`);
      assert.equal(fileExists(join(d, 'ran')), false);
    }
  });

  it('5: the same token twice is refused the second time, also after a daemon restart', async () => {
    const d = await dir('replay');
    const tokenFile = join(d, 'token');
    await writeFile(tokenFile, await issuer.issue(issuer.githubClaims('jitgate')));
    const args = ['run', '--resource', 'demo-token', '--id-token-file', tokenFile, '--', process.execPath, STEP];
    const first = await cli(args, { ...daemon.env, OUT_DIR: d });
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(args, { ...daemon.env, OUT_DIR: d });
    assert.equal(second.code, 77);
    assert.match(second.stderr, /replay/);
    await daemon.stop('SIGTERM');
    await daemon.launch();
    const third = await cli(args, { ...daemon.env, OUT_DIR: d });
    assert.equal(third.code, 77);
    assert.match(third.stderr, /replay/);
  });

  it('9: check-config refuses GitHub\'s default audience and an unpinned production rule', async () => {
    const base = await readFile(daemon.configFile, 'utf8');
    const badAudience = join(out, 'aud.yaml');
    await writeFile(badAudience, base.replace('audience: jitgate', 'audience: https://github.com/acme'));
    const aud = spawnSync(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', 'check-config', badAudience], { cwd: ROOT, encoding: 'utf8' });
    assert.notEqual(aud.status, 0);
    assert.match(aud.stderr, /audience/);
    assert.match(aud.stderr, /github\.com/);
    const unpinned = join(out, 'unpinned.yaml');
    await writeFile(unpinned, base.replace('resource: demo-token, repository: acme/api, repository_id: "42", ', 'resource: demo-token, '));
    const rule = spawnSync(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', 'check-config', unpinned], { cwd: ROOT, encoding: 'utf8' });
    assert.notEqual(rule.status, 0);
    assert.match(rule.stderr, /policies\[0\]/);
    assert.match(rule.stderr, /repository/);
  });
});
