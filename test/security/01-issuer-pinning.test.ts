/**
 * Security 1: policy rules pin the CI issuer. Two real issuers (jose keys, JWKS over HTTP), a
 * GitHub one and a self-managed GitLab one, both vouch for "acme/api" with id 42: GitHub's
 * repository 42 and GitLab's project 42 are unrelated. A rule pinned to the GitHub issuer must
 * grant only GitHub's token; and with two issuers, check-config refuses any rule that does not say
 * which issuer it trusts. Through the real jitgated and `jitgate run`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCiIssuer, type CiIssuer } from '../support/ci-issuer.js';
import { cli, DaemonProcess, fileExists, ROOT, STEP } from '../support/daemon-process.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

function checkConfig(file: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/daemon/main.ts', 'check-config', file], { cwd: ROOT, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('security 1: policy rules pin the CI issuer', () => {
  let env: VaultWithDatabase;
  let github: CiIssuer;
  let gitlab: CiIssuer;
  let daemon: DaemonProcess;
  let out: string;
  let identity: string;

  before(async () => {
    env = await startVaultWithDatabase();
    github = await startCiIssuer();
    gitlab = await startCiIssuer();
    identity = `identity:
  ci:
    - issuer: ${github.issuer}
      audience: jitgate
      kind: github
    - issuer: ${gitlab.issuer}
      audience: jitgate
      kind: gitlab`;
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      identity,
      policies: `
  - name: github-api-token
    match: { issuer: ${github.issuer}, resource: demo-token, repository: acme/api, repository_id: 42, repository_owner_id: 7 }
    decision: auto-approve
  - name: gitlab-group-9
    match: { issuer: ${gitlab.issuer}, resource: demo-token, namespace_id: 9, repository_id: 42 }
    decision: auto-approve`,
    });
    out = await mkdtemp(join(tmpdir(), 'jitgate-sec01-'));
  });
  after(async () => {
    await daemon.close();
    await github.close();
    await gitlab.close();
    await env.stop();
    await rm(out, { recursive: true, force: true });
  });

  async function runWith(name: string, token: string): Promise<{ code: number | null; stderr: string; ran: boolean }> {
    const d = join(out, name);
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'token'), token);
    const result = await cli(['run', '--resource', 'demo-token', '--id-token-file', join(d, 'token'), '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: d,
    });
    return { code: result.code, stderr: result.stderr, ran: fileExists(join(d, 'ran')) };
  }

  it('both tokens carry the same repository and id; the rule pinned to the GitHub issuer grants only the GitHub token', async () => {
    const fromGithub = github.githubClaims('jitgate');
    const fromGitlab = gitlab.gitlabClaims('jitgate');
    assert.equal(fromGithub.repository, fromGitlab.project_path);
    assert.equal(fromGithub.repository_id, fromGitlab.project_id);

    const granted = await runWith('github', await github.issue(fromGithub));
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.ran, true);

    const refused = await runWith('gitlab', await gitlab.issue(fromGitlab));
    assert.equal(refused.code, 77, refused.stderr);
    assert.equal(refused.ran, false);
    assert.match(refused.stderr, /no policy rule matched/);

    const audit = await daemon.audit();
    const created = audit.filter((r) => r.type === 'request.created') as unknown as {
      requestId: string;
      decision: string;
      rule: string | null;
      context: { issuer: string; repository: string; repositoryId: string };
    }[];
    assert.equal(created.length, 2);
    const [a, b] = created as [(typeof created)[number], (typeof created)[number]];
    assert.deepEqual([a.context.issuer, a.decision, a.rule], [github.issuer, 'auto-approve', 'github-api-token']);
    assert.deepEqual([b.context.issuer, b.context.repository, b.context.repositoryId], [gitlab.issuer, 'acme/api', '42']);
    assert.deepEqual([b.decision, b.rule], ['deny', null]);
    const denied = audit.find((r) => r.type === 'request.denied' && r.requestId === b.requestId);
    assert.equal(denied?.reason, 'no policy rule matched');
  });

  it('the owner id is matched too: a GitHub token from another owner with the same repository id is refused', async () => {
    const refused = await runWith('other-owner', await github.issue(github.githubClaims('jitgate', { repository_owner_id: '8' })));
    assert.equal(refused.code, 77, refused.stderr);
    assert.equal(refused.ran, false);
    assert.match(refused.stderr, /no policy rule matched/);
  });

  it('namespace_id matches GitLab namespaces: a project in namespace 9 is granted by the GitLab rule', async () => {
    const granted = await runWith('gitlab-group-9', await gitlab.issue(gitlab.gitlabClaims('jitgate', { namespace_id: '9' })));
    assert.equal(granted.code, 0, granted.stderr);
    assert.equal(granted.ran, true);
    const created = (await daemon.audit()).filter((r) => r.type === 'request.created').at(-1);
    assert.equal(created?.rule, 'gitlab-group-9');
  });

  it('with two CI issuers, check-config refuses every granting rule that does not pin `issuer`, naming its path', async () => {
    const base = await readFile(daemon.configFile, 'utf8');
    const unpinned = join(out, 'unpinned.yaml');
    await writeFile(
      unpinned,
      base.replace(`issuer: ${github.issuer}, resource: demo-token`, 'resource: demo-token') +
        `
  - name: catch-all
    decision: deny
`,
    );
    const result = checkConfig(unpinned);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /policies\[0\]\.match\.issuer: required when more than one identity\.ci issuer is configured/);
    assert.doesNotMatch(result.stderr, /policies\[1\]/, 'the GitLab rule is pinned');
    assert.doesNotMatch(result.stderr, /policies\[2\]/, 'a catch-all deny rule need not pin: it can only refuse more');
    assert.ok(result.stderr.includes(github.issuer) && result.stderr.includes(gitlab.issuer), result.stderr);
    assert.equal(checkConfig(daemon.configFile).status, 0, 'the pinned file itself passes');
  });

  it('an issuer is compared exactly: a wildcard or an unconfigured issuer is refused at check-config', async () => {
    const base = await readFile(daemon.configFile, 'utf8');
    const file = join(out, 'wildcard.yaml');
    await writeFile(file, base.replace(`issuer: ${github.issuer}, resource`, 'issuer: "http://127.0.0.1:*", resource'));
    const result = checkConfig(file);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /policies\[0\]\.match\.issuer: "http:\/\/127\.0\.0\.1:\*" is not a configured identity\.ci issuer/);
  });

  it('with a single CI issuer, `issuer` is optional', async () => {
    const base = await readFile(daemon.configFile, 'utf8');
    const single = join(out, 'single.yaml');
    const head = base.slice(0, base.indexOf('\npolicies:')).replace(identity, `identity:\n  ci:\n    - issuer: ${github.issuer}\n      audience: jitgate\n      kind: github`);
    await writeFile(
      single,
      `${head}
policies:
  - name: github-api-token
    match: { resource: demo-token, repository: acme/api, repository_id: 42 }
    decision: auto-approve
`,
    );
    assert.ok(!(await readFile(single, 'utf8')).includes(gitlab.issuer));
    const result = checkConfig(single);
    assert.equal(result.status, 0, result.stderr);
  });
});
