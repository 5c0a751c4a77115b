import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { RunScopes, type ScopeSubject } from '../../../src/daemon/gate/run-scope.js';
import type { RequestContext } from '../../../src/model/context.js';

const CONTEXT: RequestContext = {
  trust: 'oidc',
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'acme/api',
  repositoryId: '42',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  actor: 'alice',
  environment: 'production',
  runId: '9001',
  runAttempt: '1',
  fork: false,
};

function subject(context: Partial<RequestContext> = {}, more: Partial<ScopeSubject> = {}): ScopeSubject {
  return { resource: 'prod-db', rule: 'deploy', context: { ...CONTEXT, ...context }, ...more };
}

describe('RunScopes (approval_scope: run)', () => {
  it('an approval covers the same run, attempt, commit, resource and rule until scope_ttl on the monotonic clock', () => {
    const clock = new ManualClock();
    const scopes = new RunScopes(clock);
    assert.equal(scopes.covering(subject()), undefined);
    assert.equal(scopes.remember(subject(), 'req_first', 30 * 60_000), true);
    assert.equal(scopes.covering(subject()), 'req_first');
    clock.advance(30 * 60_000 - 1);
    assert.equal(scopes.covering(subject()), 'req_first');
    clock.advance(1);
    assert.equal(scopes.covering(subject()), undefined);
    assert.equal(scopes.size, 0, 'a lapsed scope is dropped when looked up');
  });

  it('does not cover another attempt, commit, run, resource, rule, repository or issuer', () => {
    const scopes = new RunScopes(new ManualClock());
    scopes.remember(subject(), 'req_first', 60_000);
    const others: [string, ScopeSubject][] = [
      ['attempt', subject({ runAttempt: '2' })],
      ['commit', subject({ sha: 'b'.repeat(40) })],
      ['run', subject({ runId: '9002' })],
      ['repository', subject({ repository: 'acme/web', repositoryId: '43' })],
      ['repository id', subject({ repositoryId: '44' })],
      ['issuer', subject({ issuer: 'https://gitlab.example' })],
      ['resource', subject({}, { resource: 'prod-cache' })],
      ['rule', subject({}, { rule: 'other-rule' })],
    ];
    for (const [what, other] of others) assert.equal(scopes.covering(other), undefined, what);
    assert.equal(scopes.covering(subject()), 'req_first');
  });

  it('makes no scope without a verified run id and attempt (local trust, or claims missing)', () => {
    const scopes = new RunScopes(new ManualClock());
    const { runAttempt: _attempt, ...noAttempt } = CONTEXT;
    const { runId: _run, ...noRun } = CONTEXT;
    for (const context of [{ ...CONTEXT, trust: 'local' as const }, noAttempt, noRun]) {
      const s: ScopeSubject = { resource: 'prod-db', rule: 'deploy', context };
      assert.equal(scopes.remember(s, 'req_x', 60_000), false);
      assert.equal(scopes.covering(s), undefined);
    }
    assert.equal(scopes.size, 0);
  });

  it('stepping the wall clock does not stretch a scope; lapsed scopes go when a new one is added', () => {
    const clock = new ManualClock();
    const scopes = new RunScopes(clock);
    scopes.remember(subject(), 'req_first', 1_000);
    clock.setWall(clock.now() + 86_400_000);
    assert.equal(scopes.covering(subject()), 'req_first', 'a wall-clock step forward does not end it');
    clock.setWall(clock.now() - 2 * 86_400_000);
    clock.advance(1_000);
    assert.equal(scopes.covering(subject()), undefined, 'nor does a step back keep it');
    scopes.remember(subject({ runId: '9003' }), 'req_third', 1_000);
    clock.advance(1_000);
    scopes.remember(subject({ runId: '9002' }), 'req_second', 1_000);
    assert.equal(scopes.size, 1);
    assert.equal(scopes.covering(subject({ runId: '9002' })), 'req_second');
  });
});
