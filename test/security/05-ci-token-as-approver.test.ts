import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { systemClock } from '../../src/common/clock.js';
import { IdentityError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { checkConfigText } from '../../src/daemon/config/check-config.js';
import { createIdpApproverResolver } from '../../src/daemon/identity/idp-approver-resolver.js';
import { CI_JOB_CLAIMS } from '../../src/daemon/identity/ci-job-claims.js';
import { startCiIssuer, type CiIssuer } from '../support/ci-issuer.js';

const CI_AUDIENCE = 'jitgate';
const APPROVER_AUDIENCE = 'jitgate-approvers';

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function refused(promise: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IdentityError, `expected IdentityError, got ${String(err)}`);
    assert.match(err.message, reason);
    return true;
  });
}

describe('security 5: a CI job token is never an approver token, even from the same issuer', () => {
  // One server signing both kinds of token, as a self-managed GitLab does (jose keys, JWKS over HTTP).
  let issuer: CiIssuer;
  let resolver: ReturnType<typeof createIdpApproverResolver>;

  before(async () => {
    issuer = await startCiIssuer();
    resolver = createIdpApproverResolver({
      config: { issuer: issuer.issuer, audience: APPROVER_AUDIENCE, groupsClaim: 'groups', jwksUri: issuer.jwksUri },
      clock: systemClock,
      logger: silentLogger(),
    });
  });
  after(async () => {
    resolver.close();
    await issuer.close();
  });

  /** A sign-in (ID) token of the same issuer: what an approver presents. */
  const signIn = (extra: Record<string, unknown> = {}) =>
    issuer.baseClaims(APPROVER_AUDIENCE, { sub: '17', email: 'carol@acme.test', email_verified: true, groups: ['sre'], ...extra });

  it('an approver sign-in token from the issuer is accepted (the control)', async () => {
    const who = await resolver.resolve(bearer(await issuer.issue(signIn())));
    assert.deepEqual([who.subject, who.name, who.groups], ['17', 'carol@acme.test', ['sre']]);
    assert.ok(issuer.jwksHits >= 1, 'keys came from the JWKS endpoint');
  });

  it("a GitLab job's id_token that asked for the approvers' audience is refused", async () => {
    const token = await issuer.issue(issuer.gitlabClaims(APPROVER_AUDIENCE, { groups: ['sre'] }));
    await refused(resolver.resolve(bearer(token)), /^approver token carries CI job claim "[a-z_]+": a CI job's token is not an approver's sign-in$/);
  });

  it('a GitHub-shaped job token with the approver audience is refused too', async () => {
    const token = await issuer.issue(issuer.githubClaims(APPROVER_AUDIENCE));
    await refused(resolver.resolve(bearer(token)), /carries CI job claim/);
  });

  it('a job token with the CI audience is refused for its audience', async () => {
    const token = await issuer.issue(issuer.gitlabClaims(CI_AUDIENCE));
    await refused(resolver.resolve(bearer(token)), /^approver token audience mismatch$/);
  });

  it('any single CI job claim, whatever its value, makes a sign-in token a job token', async () => {
    assert.ok(CI_JOB_CLAIMS.includes('job_workflow_ref') && CI_JOB_CLAIMS.includes('pipeline_id') && CI_JOB_CLAIMS.includes('project_path'));
    for (const claim of CI_JOB_CLAIMS) {
      for (const value of ['x', null, 0]) {
        const token = await issuer.issue(signIn({ [claim]: value }));
        await refused(resolver.resolve(bearer(token)), new RegExp(`carries CI job claim "${claim}"`));
      }
    }
  });

  describe('check-config', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jitgate-sec05-'));
      await writeFile(join(dir, 'vault-token'), 'not-a-real-token', { mode: 0o600 });
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    const text = (approvers: { issuer: string; audience: string }): string =>
      stringify({
        state: { sqlite: ':memory:' },
        audit: { file: join(dir, 'audit.jsonl') },
        vault: { address: 'http://127.0.0.1:1', auth: { token_file: join(dir, 'vault-token') } },
        identity: {
          ci: [
            { issuer: 'https://token.actions.githubusercontent.com', audience: CI_AUDIENCE },
            { issuer: 'https://gitlab.acme.example', audience: CI_AUDIENCE },
          ],
          approvers,
        },
        resources: { db: { vault: { policies: ['p'] }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' } },
        policies: [{ name: 'all', decision: 'deny' }],
      });

    it('refuses approvers whose issuer and audience equal a CI issuer\'s, naming the path and the CI entry', async () => {
      for (const issuerUrl of ['https://gitlab.acme.example', 'https://gitlab.acme.example/']) {
        const { problems, config } = await checkConfigText(text({ issuer: issuerUrl, audience: CI_AUDIENCE }), { source: 'test.yaml', baseDir: dir });
        assert.equal(config, undefined);
        assert.deepEqual(problems.map((p) => p.path), ['identity.approvers.audience'], JSON.stringify(problems));
        assert.match(problems[0]?.message ?? '', /^equals identity\.ci\[1\] \(issuer "https:\/\/gitlab\.acme\.example", audience "jitgate"\): a CI job's token would pass as an approver's/);
      }
    });

    it('accepts the same issuer with the approvers\' own audience', async () => {
      const { problems, config } = await checkConfigText(text({ issuer: 'https://gitlab.acme.example', audience: APPROVER_AUDIENCE }), {
        source: 'test.yaml',
        baseDir: dir,
      });
      assert.deepEqual(problems, []);
      assert.equal(config?.identity.approvers?.audience, APPROVER_AUDIENCE);
    });
  });
});
