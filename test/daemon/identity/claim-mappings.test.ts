import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import type { RequestContext } from '../../../src/model/context.js';
import { IdentityError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import type { CiIssuerConfig, PolicyRule } from '../../../src/daemon/config/types.js';
import { mapClaims } from '../../../src/daemon/identity/claim-mappings.js';
import { createOidcContextResolver } from '../../../src/daemon/identity/oidc-context-resolver.js';
import { PolicyEngine } from '../../../src/daemon/policy/index.js';
import { openSqliteStore, type SqliteStateStore } from '../../../src/daemon/state/sqlite-store.js';
import { issuerConfigFor, SHA_MAIN, startCiIssuer, type CiIssuer } from '../../support/ci-issuer.js';

const AUD = 'jitgate';

const RULES: readonly PolicyRule[] = [
  {
    name: 'prod-from-main',
    match: {
      resource: ['prod-db'],
      repository: ['acme/api'],
      repositoryId: ['42'],
      ref: ['refs/heads/main'],
      refType: ['branch'],
      environment: ['production'],
    },
    decision: 'auto-approve',
  },
  { name: 'everything-else', match: {}, decision: 'deny' },
];

describe('verified claims against policy (PolicyEngine)', () => {
  let clock: ManualClock;
  let github: CiIssuer;
  let gitlab: CiIssuer;
  let store: SqliteStateStore;
  let resolver: ReturnType<typeof createOidcContextResolver>;
  const policy = new PolicyEngine(RULES);

  before(async () => {
    clock = new ManualClock();
    github = await startCiIssuer({ clock, path: '/github' });
    gitlab = await startCiIssuer({ clock, path: '/gitlab' });
    store = openSqliteStore({ path: ':memory:', clock });
    resolver = createOidcContextResolver({
      issuers: [issuerConfigFor(github), issuerConfigFor(gitlab, { kind: 'gitlab', webUrl: 'https://gitlab.example' })],
      store,
      clock,
      logger: silentLogger(),
    });
  });

  after(async () => {
    resolver.close();
    await store.close();
    await github.close();
    await gitlab.close();
  });

  async function decideGithub(overrides: Record<string, unknown>) {
    const ctx = await resolver.resolve(await github.issue(github.githubClaims(AUD, overrides)), {});
    return { ctx, decision: policy.decide('prod-db', ctx) };
  }

  describe('acceptance 1: full refs only', () => {
    it('a GitHub token for acme/api on refs/heads/main matches the main-only rule', async () => {
      const { decision } = await decideGithub({});
      assert.deepEqual(decision, { kind: 'auto-approve', rule: 'prod-from-main' });
    });

    it('refs/heads/feature/x does not match', async () => {
      const { ctx, decision } = await decideGithub({ ref: 'refs/heads/feature/x' });
      assert.equal(ctx.ref, 'refs/heads/feature/x');
      assert.equal(decision.kind, 'deny');
      assert.equal(decision.rule, 'everything-else');
    });

    it('a tag named main (refs/tags/main, ref_type tag) does not match', async () => {
      const { ctx, decision } = await decideGithub({ ref: 'refs/tags/main', ref_type: 'tag' });
      assert.equal(ctx.refType, 'tag');
      assert.equal(decision.kind, 'deny');
    });

    it('ref_type tag on a branch ref is refused as self-contradictory', async () => {
      await assert.rejects(decideGithub({ ref_type: 'tag' }), (err: unknown) => {
        assert.ok(err instanceof IdentityError);
        assert.equal(err.message, 'token claims "ref" and "ref_type" disagree');
        return true;
      });
    });
  });

  describe('acceptance 6: repository ids', () => {
    it('a rule pinned to repository_id 42 does not match the same name with id 43', async () => {
      const same = await decideGithub({ repository_id: '42' });
      assert.equal(same.decision.kind, 'auto-approve');
      const recreated = await decideGithub({ repository_id: '43' });
      assert.equal(recreated.ctx.repository, 'acme/api');
      assert.equal(recreated.ctx.repositoryId, '43');
      assert.equal(recreated.decision.kind, 'deny');
      assert.equal(recreated.decision.rule, 'everything-else');
    });
  });

  describe('acceptance 7: forks', () => {
    it('a GitLab merge-request pipeline from a fork is a fork context the production rule does not match', async () => {
      const token = await gitlab.issue(
        gitlab.gitlabClaims(AUD, {
          pipeline_source: 'merge_request_event',
          job_project_path: 'mallory/api',
          job_project_id: '99',
        }),
      );
      const ctx = await resolver.resolve(token, {});
      assert.equal(ctx.fork, true);
      assert.equal(ctx.sourceRepository, 'mallory/api');
      assert.equal(ctx.repository, 'acme/api');
      assert.equal(ctx.environment, 'production');
      // Not even the catch-all matches: fork contexts only meet rules that say `fork: true`.
      const decision = policy.decide('prod-db', ctx);
      assert.equal(decision.kind, 'deny');
      assert.equal(decision.rule, null);
    });

    it('the same GitLab pipeline from the project itself is granted', async () => {
      const token = await gitlab.issue(
        gitlab.gitlabClaims(AUD, { job_project_path: 'acme/api', job_project_id: '42' }),
      );
      const ctx = await resolver.resolve(token, {});
      assert.equal(ctx.fork, false);
      assert.deepEqual(policy.decide('prod-db', ctx), { kind: 'auto-approve', rule: 'prod-from-main' });
    });

    it('every GitHub pull_request* event is a fork context (fail closed)', async () => {
      for (const event of ['pull_request', 'pull_request_target']) {
        const { ctx, decision } = await decideGithub({ event_name: event, head_repository: 'mallory/api' });
        assert.equal(ctx.fork, true);
        assert.equal(ctx.sourceRepository, 'mallory/api');
        assert.equal(decision.kind, 'deny');
      }
      const inRepo = await decideGithub({ event_name: 'pull_request' });
      assert.equal(inRepo.ctx.fork, true);
      assert.equal(inRepo.ctx.sourceRepository, undefined);
    });
  });
});

describe('claim mappings', () => {
  const base: CiIssuerConfig = issuerConfigFor({ issuer: 'https://ci.example' });
  const common = { iss: 'https://ci.example', jti: 'j', iat: 1, exp: 2 };

  it('GitLab: builds full refs from ref + ref_type when ref_path is absent, and prefers ref_path', () => {
    const gl: CiIssuerConfig = { ...base, kind: 'gitlab' };
    const claims = {
      ...common,
      project_path: 'group/sub/proj',
      project_id: 5,
      namespace_id: 3,
      ref: 'v1.2',
      ref_type: 'tag',
      sha: SHA_MAIN,
      user_login: 'bob',
      user_id: 8,
      pipeline_source: 'push',
      pipeline_id: 77,
      ci_config_ref_uri: 'ci.example/group/sub/proj//.gitlab-ci.yml@refs/tags/v1.2',
    };
    const ctx = mapClaims(gl, claims);
    const expected: RequestContext = {
      trust: 'oidc',
      issuer: 'https://ci.example',
      repository: 'group/sub/proj',
      repositoryId: '5',
      repositoryOwnerId: '3',
      namespaceId: '3',
      ref: 'refs/tags/v1.2',
      refType: 'tag',
      sha: SHA_MAIN,
      actor: 'bob',
      actorId: '8',
      environment: '',
      workflow: 'ci.example/group/sub/proj//.gitlab-ci.yml@refs/tags/v1.2',
      event: 'push',
      runId: '77',
      runUrl: 'https://ci.example/group/sub/proj/-/pipelines/77',
      fork: false,
    };
    assert.deepEqual(ctx, expected);
    assert.equal(mapClaims(gl, { ...claims, ref: 'main', ref_type: 'branch' }).ref, 'refs/heads/main');
    const mr = mapClaims(gl, { ...claims, ref_type: 'branch', ref_path: 'refs/merge-requests/3/head' });
    assert.equal(mr.ref, 'refs/merge-requests/3/head');
    assert.throws(() => mapClaims(gl, { ...claims, ref_type: 'weird' }), IdentityError);
  });

  it('GitHub: workflow falls back to workflow_ref; run link uses webUrl', () => {
    const claims = {
      ...common,
      repository: 'acme/api',
      repository_id: '42',
      repository_owner_id: '7',
      ref: 'refs/heads/main',
      sha: SHA_MAIN,
      actor: 'alice',
      actor_id: '1',
      event_name: 'workflow_dispatch',
      run_id: '12',
      workflow_ref: 'acme/api/.github/workflows/a.yml@refs/heads/main',
    };
    const ctx = mapClaims({ ...base, webUrl: 'https://ghe.example/' }, claims);
    assert.equal(ctx.workflow, 'acme/api/.github/workflows/a.yml@refs/heads/main');
    assert.equal(ctx.workflowRef, 'acme/api/.github/workflows/a.yml@refs/heads/main');
    assert.equal(ctx.jobWorkflowRef, undefined);
    assert.equal(ctx.namespaceId, undefined, 'namespace_id is GitLab only');
    assert.equal(ctx.runUrl, 'https://ghe.example/acme/api/actions/runs/12');
    assert.equal(ctx.environment, '');
    assert.throws(() => mapClaims(base, { ...claims, actor: { name: 'x' } }), /unexpected type/);
    assert.throws(() => mapClaims(base, { ...claims, actor: 'a\u2028b' }), /control characters/);
    assert.throws(() => mapClaims(base, { ...claims, sha: 'not-a-sha' }), /not a commit sha/);
  });

  it('generic: maps configured claims, defaults the core fields to same-named claims', () => {
    const generic: CiIssuerConfig = {
      ...base,
      kind: 'generic',
      claims: { repository: 'project', repositoryId: 'project_id', fork: 'is_fork', event: 'trigger' },
    };
    const claims = {
      ...common,
      project: 'team/app',
      project_id: '9',
      ref: 'refs/heads/main',
      sha: SHA_MAIN,
      actor: 'carol',
      environment: 'staging',
      is_fork: false,
      trigger: 'push',
    };
    const ctx = mapClaims(generic, claims);
    assert.deepEqual(ctx, {
      trust: 'oidc',
      issuer: 'https://ci.example',
      repository: 'team/app',
      repositoryId: '9',
      ref: 'refs/heads/main',
      sha: SHA_MAIN,
      actor: 'carol',
      environment: 'staging',
      event: 'push',
      fork: false,
    });
    assert.equal(mapClaims(generic, { ...claims, is_fork: true }).fork, true);
    assert.throws(() => mapClaims(generic, { ...claims, is_fork: undefined }), /must be a boolean/);
    assert.throws(() => mapClaims(generic, { ...claims, trigger: undefined }), /lacks required claim "trigger"/);
  });
});
