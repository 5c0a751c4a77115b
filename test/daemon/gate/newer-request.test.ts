import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RequireSpec } from '../../../src/daemon/config/types.js';
import { isNewerRun, supersedeEnabled, supersedes, type Waiting } from '../../../src/daemon/gate/newer-request.js';
import type { StoredRequest } from '../../../src/daemon/state/store.js';
import type { RequestContext } from '../../../src/model/context.js';

const REQUIRE: RequireSpec = { approvals: 1, from: ['group:sre'], everyGroup: false, expiresAfterMs: 900_000, escalate: [] };

const CONTEXT: RequestContext = {
  trust: 'oidc',
  issuer: 'https://token.actions.githubusercontent.com',
  repository: 'acme/api',
  repositoryId: '42',
  ref: 'refs/heads/main',
  sha: 'a'.repeat(40),
  actor: 'alice',
  environment: 'production',
  workflow: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
  runId: '100',
  runAttempt: '1',
  fork: false,
};

function request(id: string, context: Partial<RequestContext> = {}, more: Partial<StoredRequest> = {}): StoredRequest {
  return {
    id,
    resource: 'prod-db',
    reason: '',
    context: { ...CONTEXT, ...context },
    claimed: {},
    ttlMs: 60_000,
    status: 'pending',
    rule: 'deploy',
    require: REQUIRE,
    createdAt: 0,
    expiresAt: 900_000,
    updatedAt: 0,
    ...more,
  };
}

function entry(req: StoredRequest, require: RequireSpec = REQUIRE): Waiting {
  return { request: req, require };
}

describe('supersede: which request is newer', () => {
  it('a larger verified run id is newer; a smaller one is older even when it arrives later', () => {
    assert.equal(isNewerRun({ runId: '101' }, { runId: '100' }), true);
    assert.equal(isNewerRun({ runId: '99' }, { runId: '100' }), false);
    // Numerically, not as text: "1000" > "999".
    assert.equal(isNewerRun({ runId: '1000' }, { runId: '999' }), true);
    assert.equal(isNewerRun({ runId: '999' }, { runId: '1000' }), false);
    // Beyond 2^53 too.
    assert.equal(isNewerRun({ runId: '90071992547409930' }, { runId: '90071992547409929' }), true);
    assert.equal(isNewerRun({ runId: '90071992547409929' }, { runId: '90071992547409930' }), false);
  });

  it('falls back to arrival order (the later arrival is newer) when run ids are absent, equal or not numbers', () => {
    assert.equal(isNewerRun({}, { runId: '100' }), true);
    assert.equal(isNewerRun({ runId: '100' }, {}), true);
    assert.equal(isNewerRun({}, {}), true);
    assert.equal(isNewerRun({ runId: '100' }, { runId: '100' }), true);
    assert.equal(isNewerRun({ runId: 'abc' }, { runId: '100' }), true);
  });
});

describe('supersede: which pending requests a new one ends', () => {
  const old = request('req_old');

  it('a newer commit for the same repository, workflow, ref and resource', () => {
    assert.equal(supersedes(request('req_new', { sha: 'b'.repeat(40), runId: '101' }), entry(old)), true);
  });

  it('not an older commit, the same commit, or another repository, workflow, ref, resource, issuer or trust', () => {
    const cases: [string, StoredRequest][] = [
      ['older run', request('req_new', { sha: 'b'.repeat(40), runId: '99' })],
      ['same commit (a re-run)', request('req_new', { runId: '101', runAttempt: '2' })],
      ['repository', request('req_new', { sha: 'b'.repeat(40), runId: '101', repository: 'acme/web' })],
      ['repository id', request('req_new', { sha: 'b'.repeat(40), runId: '101', repositoryId: '43' })],
      ['workflow', request('req_new', { sha: 'b'.repeat(40), runId: '101', workflow: 'acme/api/.github/workflows/other.yml@refs/heads/main' })],
      ['ref', request('req_new', { sha: 'b'.repeat(40), runId: '101', ref: 'refs/heads/dev' })],
      ['issuer', request('req_new', { sha: 'b'.repeat(40), runId: '101', issuer: 'https://gitlab.example' })],
      ['trust', request('req_new', { sha: 'b'.repeat(40), runId: '101', trust: 'local' })],
      ['resource', request('req_new', { sha: 'b'.repeat(40), runId: '101' }, { resource: 'prod-cache' })],
      ['itself', request('req_old', { sha: 'b'.repeat(40), runId: '101' })],
    ];
    for (const [what, newer] of cases) assert.equal(supersedes(newer, entry(old)), false, what);
    // Local trust: the context is what the client asserted, so it never takes part.
    const local = request('req_local', { trust: 'local' });
    assert.equal(supersedes(request('req_new', { trust: 'local', sha: 'b'.repeat(40), runId: '101' }), entry(local)), false, 'both local');
    assert.equal(supersedes(request('req_new', { sha: 'b'.repeat(40), runId: '101' }), entry({ ...old, status: 'approved' })), false, 'not pending');
  });

  it('on by default for branches, off for tags; `supersede` overrides either way', () => {
    const tag = request('req_tag', { ref: 'refs/tags/v1', refType: 'tag' });
    assert.equal(supersedeEnabled(entry(old)), true);
    assert.equal(supersedeEnabled(entry(tag)), false);
    assert.equal(supersedeEnabled(entry(old, { ...REQUIRE, supersede: false })), false);
    assert.equal(supersedeEnabled(entry(tag, { ...REQUIRE, supersede: true })), true);
    const newerTag = request('req_new', { ref: 'refs/tags/v1', refType: 'tag', sha: 'b'.repeat(40), runId: '101' });
    assert.equal(supersedes(newerTag, entry(tag)), false);
    assert.equal(supersedes(newerTag, entry(tag, { ...REQUIRE, supersede: true })), true);
    assert.equal(supersedes(request('req_new', { sha: 'b'.repeat(40), runId: '101' }), entry(old, { ...REQUIRE, supersede: false })), false);
  });
});
