/**
 * Approvers proven by the org's identity provider, through the real binaries: jitgated with local
 * approvers OFF and `identity.approvers` pointing at a real OpenID Provider (oidc-provider), and
 * `jitgate approve --approver-token-file` carrying an ID token obtained by signing in there.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, DaemonProcess, fileExists, startCli, STEP, contextFlags } from '../support/daemon-process.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const POLICIES = `
  - name: token-needs-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 5m }
  - name: everything-else
    decision: deny`;

const CONTEXT = contextFlags();

describe('end to end: approvers signed in through the IdP', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let daemon: DaemonProcess;
  let out: string;
  const tokens: string[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({
      users: [
        { sub: 'u-carol', preferredUsername: 'carol', email: 'carol@acme.test', groups: ['sre'] },
        { sub: 'u-alice', preferredUsername: 'alice', email: 'alice@acme.test', groups: ['sre'] },
      ],
    });
    daemon = await DaemonProcess.start({
      vaultEnv: env,
      policies: POLICIES,
      identity: `identity:
  local: { context: true, approvers: false }
  approvers:
    issuer: ${idp.issuer}
    audience: ${idp.clientId}
    groups_claim: groups`,
    });
    out = await mkdtemp(join(tmpdir(), 'jitgate-idp-'));
  });
  after(async () => {
    await daemon.close();
    await idp.close();
    await env.stop();
    await rm(out, { recursive: true, force: true });
  });

  async function tokenFile(user: string): Promise<string> {
    const token = await idp.login(user);
    tokens.push(token);
    const file = join(out, `${user}.jwt`);
    await writeFile(file, `${token}\n`, { mode: 0o600 });
    return file;
  }

  it('approve --approver-token-file approves; without a token, or with --as, it is refused saying how to present one', async () => {
    const dir = join(out, 'step');
    await mkdir(dir);
    const run = startCli(['run', '--resource', 'demo-token', '--reason', 'deploy', ...CONTEXT, '--', process.execPath, STEP], {
      ...daemon.env,
      OUT_DIR: dir,
    });
    const [, id] = await run.waitFor(/(req_[a-z0-9]+)/);
    assert.ok(id);

    const bare = await cli(['approve', id], daemon.env);
    assert.equal(bare.code, 1);
    assert.match(bare.stderr, /no approver identity: .*--approver-token-file FILE.*JITGATE_APPROVER_TOKEN_FILE/);

    const named = await cli(['approve', id, '--as', 'bob'], daemon.env);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /local approvers \(--as\) are off/);

    const missing = await cli(['approve', id, '--approver-token-file', join(out, 'nope.jwt')], daemon.env);
    assert.equal(missing.code, 64);
    assert.match(missing.stderr, /--approver-token-file: cannot read .*nope\.jwt: no such file/);

    // The CI actor, signed in as herself, cannot approve her own request.
    const self = await cli(['approve', id, '--approver-token-file', await tokenFile('u-alice')], daemon.env);
    assert.equal(self.code, 1);
    assert.match(self.stderr, /requester cannot approve/);
    assert.equal(fileExists(join(dir, 'ran')), false, 'nothing runs before approval');

    // The env var works as well as the flag, for every approver command.
    const carol = await tokenFile('u-carol');
    const shown = await cli(['show', id, '--json'], { ...daemon.env, JITGATE_APPROVER_TOKEN_FILE: carol });
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, 'pending');

    const approved = await cli(['approve', id, '--approver-token-file', carol], daemon.env);
    assert.equal(approved.code, 0, approved.stderr);
    const result = await run.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(fileExists(join(dir, 'ran')), true);

    const audit = await daemon.audit();
    const recorded = audit.filter((r) => r.type === 'approval.recorded');
    assert.deepEqual(
      recorded.map((r) => r.approver),
      [{ subject: 'u-carol', name: 'carol@acme.test', trust: 'idp' }],
    );
    const rejected = audit.filter((r) => r.type === 'approval.rejected').map((r) => r.approver as { subject: string });
    assert.deepEqual(
      rejected.map((a) => a.subject),
      ['u-alice'],
    );
  });

  it('the ID tokens appear nowhere in the daemon logs or the audit log', async () => {
    assert.ok(tokens.length >= 2);
    const auditText = await readFile(daemon.auditFile, 'utf8');
    for (const token of tokens) {
      const signature = token.split('.')[2] ?? token;
      assert.ok(signature.length > 20);
      assert.ok(!daemon.logs.includes(signature), 'token in daemon logs');
      assert.ok(!auditText.includes(signature), 'token in audit log');
    }
  });
});
