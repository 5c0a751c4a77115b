import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequestContext } from '../../../src/model/context.js';
import type { PolicyRule, RequireSpec } from '../../../src/daemon/config/types.js';
import { PolicyEngine } from '../../../src/daemon/policy/engine.js';

const base: RequestContext = {
  trust: 'oidc',
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'acme/api',
  repositoryId: '42',
  ref: 'refs/heads/main',
  refType: 'branch',
  sha: 'a'.repeat(40),
  actor: 'carol',
  environment: 'production',
  workflow: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
  event: 'push',
  runnerEnvironment: 'self-hosted',
  fork: false,
};

const twoSre: RequireSpec = { approvals: 2, from: ['group:sre'], everyGroup: false, expiresAfterMs: 900_000, escalate: [] };

function ctx(overrides: Partial<RequestContext>): RequestContext {
  return { ...base, ...overrides };
}

describe('PolicyEngine', () => {
  it('lets the first matching rule decide, in order', () => {
    const rules: PolicyRule[] = [
      { name: 'main-needs-approval', match: { repository: ['acme/api'], ref: ['refs/heads/main'] }, decision: 'require', require: twoSre },
      { name: 'acme-auto', match: { repository: ['acme/*'] }, decision: 'auto-approve' },
      { name: 'deny-all', match: {}, decision: 'deny' },
    ];
    const engine = new PolicyEngine(rules);
    assert.deepEqual(engine.decide('prod-db', base), { kind: 'require', rule: 'main-needs-approval', require: twoSre });
    assert.deepEqual(engine.decide('prod-db', ctx({ ref: 'refs/heads/dev' })), { kind: 'auto-approve', rule: 'acme-auto' });
    assert.deepEqual(engine.decide('prod-db', ctx({ repository: 'evil/api' })), {
      kind: 'deny',
      rule: 'deny-all',
      reason: 'denied by policy rule "deny-all"',
    });
    // The same rules in another order decide differently: order is the contract.
    const reversed = new PolicyEngine([rules[1], rules[0]].filter((r) => r !== undefined));
    assert.deepEqual(reversed.decide('prod-db', base), { kind: 'auto-approve', rule: 'acme-auto' });
  });

  it('denies by default when nothing matches', () => {
    const engine = new PolicyEngine([{ name: 'staging', match: { environment: ['staging'] }, decision: 'auto-approve' }]);
    assert.deepEqual(engine.decide('prod-db', base), { kind: 'deny', rule: null, reason: 'no policy rule matched' });
    assert.deepEqual(new PolicyEngine([]).decide('prod-db', base), { kind: 'deny', rule: null, reason: 'no policy rule matched' });
  });

  it('does not let the tag refs/tags/main pass for the branch rule refs/heads/main', () => {
    const engine = new PolicyEngine([{ name: 'main', match: { ref: ['refs/heads/main'] }, decision: 'auto-approve' }]);
    assert.equal(engine.decide('r', base).kind, 'auto-approve');
    assert.deepEqual(engine.decide('r', ctx({ ref: 'refs/tags/main', refType: 'tag' })), {
      kind: 'deny',
      rule: null,
      reason: 'no policy rule matched',
    });
    assert.equal(engine.decide('r', ctx({ ref: 'main' })).kind, 'deny');
    assert.equal(engine.decide('r', ctx({ ref: 'refs/heads/feature/x' })).kind, 'deny');
  });

  it('distinguishes * (one segment) from ** (any depth) on refs', () => {
    const single = new PolicyEngine([{ name: 'one', match: { ref: ['refs/heads/*'] }, decision: 'auto-approve' }]);
    const deep = new PolicyEngine([{ name: 'any', match: { ref: ['refs/heads/**'] }, decision: 'auto-approve' }]);
    const nested = ctx({ ref: 'refs/heads/feature/x' });
    assert.equal(single.decide('r', base).kind, 'auto-approve');
    assert.equal(single.decide('r', nested).kind, 'deny');
    assert.equal(deep.decide('r', nested).kind, 'auto-approve');
    assert.equal(deep.decide('r', ctx({ ref: 'refs/tags/v1' })).kind, 'deny');
  });

  it('pins repository_id: 42 matches, the same name with id 43 does not', () => {
    const engine = new PolicyEngine([
      { name: 'pinned', match: { repository: ['acme/api'], repositoryId: ['42'] }, decision: 'auto-approve' },
    ]);
    assert.equal(engine.decide('r', ctx({ repositoryId: '42' })).kind, 'auto-approve');
    assert.equal(engine.decide('r', ctx({ repositoryId: '43' })).kind, 'deny');
  });

  it('fails closed when the rule names a field the context lacks', () => {
    const engine = new PolicyEngine([
      { name: 'by-id', match: { repositoryId: ['42'] }, decision: 'auto-approve' },
      { name: 'by-workflow', match: { workflow: ['**'] }, decision: 'auto-approve' },
      { name: 'by-env', match: { environment: ['*'] }, decision: 'auto-approve' },
    ]);
    const bare: RequestContext = { trust: 'local', repository: 'acme/api', ref: 'refs/heads/main', sha: 'a', actor: 'carol', environment: '', fork: false };
    assert.equal(engine.decide('r', bare).kind, 'deny');
    assert.deepEqual(engine.explain('r', bare).trace[0]?.mismatches, ['repository_id: absent from the request context (rule wants "42")']);
  });

  it('keeps forks apart: a fork matches only fork: true rules, and those match only forks', () => {
    const engine = new PolicyEngine([
      { name: 'base-repo', match: { repository: ['acme/api'] }, decision: 'auto-approve' },
      { name: 'forks', match: { repository: ['acme/api'], fork: true }, decision: 'deny' },
    ]);
    assert.deepEqual(engine.decide('r', base), { kind: 'auto-approve', rule: 'base-repo' });
    const fork = ctx({ fork: true, sourceRepository: 'mallory/api' });
    assert.deepEqual(engine.decide('r', fork), { kind: 'deny', rule: 'forks', reason: 'denied by policy rule "forks"' });

    const forkOnly = new PolicyEngine([{ name: 'forks-ok', match: { fork: true }, decision: 'auto-approve' }]);
    assert.equal(forkOnly.decide('r', base).kind, 'deny');
    assert.equal(forkOnly.decide('r', fork).kind, 'auto-approve');

    const catchAll = new PolicyEngine([{ name: 'all', match: {}, decision: 'auto-approve' }]);
    assert.equal(catchAll.decide('r', fork).kind, 'deny');
  });

  it('never matches a value holding a newline or control character', () => {
    const engine = new PolicyEngine([{ name: 'main', match: { ref: ['refs/heads/**'] }, decision: 'auto-approve' }]);
    assert.equal(engine.decide('r', ctx({ ref: 'refs/heads/main\nrefs/heads/x' })).kind, 'deny');
    const byResource = new PolicyEngine([{ name: 'res', match: { resource: ['*'] }, decision: 'auto-approve' }]);
    assert.equal(byResource.decide('prod\u0007db', base).kind, 'deny');
  });

  it('matches resource, actor, event, ref_type and runner_environment', () => {
    const engine = new PolicyEngine([
      {
        name: 'all-keys',
        match: {
          resource: ['prod-db', 'deploy-prod'],
          actor: ['carol'],
          event: ['push'],
          refType: ['branch'],
          runnerEnvironment: ['self-hosted'],
          workflow: ['acme/api/.github/workflows/*@refs/heads/main'],
        },
        decision: 'auto-approve',
      },
    ]);
    assert.equal(engine.decide('deploy-prod', base).kind, 'auto-approve');
    assert.equal(engine.decide('other', base).kind, 'deny');
    assert.equal(engine.decide('prod-db', ctx({ actor: 'dave' })).kind, 'deny');
    assert.equal(engine.decide('prod-db', ctx({ event: 'pull_request' })).kind, 'deny');
    assert.equal(engine.decide('prod-db', ctx({ refType: 'tag' })).kind, 'deny');
    assert.equal(engine.decide('prod-db', ctx({ runnerEnvironment: 'github-hosted' })).kind, 'deny');
  });

  it('explains each rule tried up to and including the deciding one', () => {
    const engine = new PolicyEngine([
      { name: 'tags', match: { ref: ['refs/heads/main'], environment: ['staging'] }, decision: 'auto-approve' },
      { name: 'prod', match: { repositoryId: ['42'], environment: ['production'] }, decision: 'require', require: twoSre },
      { name: 'never-reached', match: {}, decision: 'deny' },
    ]);
    const tag = ctx({ ref: 'refs/tags/main' });
    const result = engine.explain('prod-db', tag);
    assert.deepEqual(result.decision, { kind: 'require', rule: 'prod', require: twoSre });
    assert.deepEqual(result.trace, [
      {
        rule: 'tags',
        matched: false,
        mismatches: [
          'ref: "refs/tags/main" does not match "refs/heads/main"',
          'environment: "production" does not match "staging"',
        ],
      },
      { rule: 'prod', matched: true, mismatches: [] },
    ]);
    assert.deepEqual(engine.explain('prod-db', tag).decision, engine.decide('prod-db', tag));

    const none = new PolicyEngine([{ name: 'a', match: { actor: ['x', 'y'] }, decision: 'auto-approve' }]).explain('r', base);
    assert.deepEqual(none.decision, { kind: 'deny', rule: null, reason: 'no policy rule matched' });
    assert.deepEqual(none.trace, [{ rule: 'a', matched: false, mismatches: ['actor: "carol" does not match any of "x", "y"'] }]);
  });
});

describe('PolicyEngine: issuer, owner and reusable-workflow keys', () => {
  const gh = base.issuer ?? '';

  it('issuer is compared as a whole string, never as a glob, and a context without one never matches', () => {
    const engine = new PolicyEngine([{ name: 'gh', match: { issuer: [gh], repositoryId: ['42'] }, decision: 'auto-approve' }]);
    assert.equal(engine.decide('r', base).kind, 'auto-approve');
    assert.equal(engine.decide('r', ctx({ issuer: 'https://gitlab.example' })).rule, null);
    const { issuer: _dropped, ...local } = base;
    assert.equal(engine.decide('r', { ...local, trust: 'local' }).rule, null);
    const starred = new PolicyEngine([{ name: 'star', match: { issuer: ['https://token.actions.*.com'] }, decision: 'auto-approve' }]);
    assert.deepEqual(starred.explain('r', base).trace[0]?.mismatches, [
      `issuer: ${JSON.stringify(gh)} does not match "https://token.actions.*.com"`,
    ]);
  });

  it('repository_owner_id, namespace_id and job_workflow_ref read their own context fields', () => {
    const callee = 'acme/ci/.github/workflows/deploy.yml@refs/tags/v1';
    const engine = new PolicyEngine([
      { name: 'owner', match: { repositoryOwnerId: ['7'], jobWorkflowRef: ['acme/ci/.github/workflows/deploy.yml@refs/tags/v1*'] }, decision: 'auto-approve' },
      { name: 'group', match: { namespaceId: ['9'] }, decision: 'auto-approve' },
    ]);
    assert.equal(engine.decide('r', ctx({ repositoryOwnerId: '7', jobWorkflowRef: callee })).rule, 'owner');
    assert.equal(engine.decide('r', ctx({ repositoryOwnerId: '7', jobWorkflowRef: `${callee}.4` })).rule, 'owner');
    assert.equal(engine.decide('r', ctx({ repositoryOwnerId: '8', jobWorkflowRef: callee })).rule, null);
    // `workflow` carries the callee too, but job_workflow_ref never falls back to it.
    assert.equal(engine.decide('r', ctx({ repositoryOwnerId: '7', workflow: callee })).rule, null);
    assert.equal(engine.decide('r', ctx({ namespaceId: '9' })).rule, 'group');
    assert.equal(engine.decide('r', ctx({ repositoryOwnerId: '9' })).rule, null, 'namespace_id is not the GitHub owner id');
  });
});
