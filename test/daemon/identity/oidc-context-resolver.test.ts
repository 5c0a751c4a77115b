import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportSPKI } from 'jose';
import { ManualClock } from '../../../src/common/clock.js';
import { IdentityError, PermissionDeniedError, UnavailableError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import type { CiIssuerConfig } from '../../../src/daemon/config/types.js';
import { ContextMismatchError } from '../../../src/daemon/identity/context-mismatch-error.js';
import { createOidcContextResolver } from '../../../src/daemon/identity/oidc-context-resolver.js';
import { openSqliteStore, type SqliteStateStore } from '../../../src/daemon/state/sqlite-store.js';
import { issuerConfigFor, SHA_MAIN, startCiIssuer, type CiIssuer } from '../../support/ci-issuer.js';

const AUD = 'jitgate';

async function rejectsIdentity(promise: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IdentityError, `expected IdentityError, got ${String(err)}`);
    assert.equal(err.message, reason);
    return true;
  });
}

describe('OIDC context resolver', () => {
  let clock: ManualClock;
  let issuer: CiIssuer;
  let store: SqliteStateStore;
  const resolvers: { close(): void }[] = [];

  before(async () => {
    clock = new ManualClock();
    issuer = await startCiIssuer({ clock });
    store = openSqliteStore({ path: ':memory:', clock });
  });

  after(async () => {
    for (const r of resolvers) r.close();
    await store.close();
    await issuer.close();
  });

  function resolver(config: Partial<CiIssuerConfig> = {}, extra: { jwksCooldownMs?: number } = {}) {
    const r = createOidcContextResolver({
      issuers: [issuerConfigFor(issuer, config)],
      store,
      clock,
      logger: silentLogger(),
      ...extra,
    });
    resolvers.push(r);
    return r;
  }

  describe('valid GitHub token', () => {
    it('yields the context from the verified claims, discovering the JWKS', async () => {
      const r = resolver();
      const discoveries = issuer.discoveryHits;
      const token = await issuer.issue(issuer.githubClaims(AUD));
      const ctx = await r.resolve(token, { repository: 'acme/api', ref: 'refs/heads/main', sha: SHA_MAIN });
      assert.deepEqual(ctx, {
        trust: 'oidc',
        issuer: issuer.issuer,
        repository: 'acme/api',
        repositoryId: '42',
        repositoryOwnerId: '7',
        ref: 'refs/heads/main',
        refType: 'branch',
        sha: SHA_MAIN,
        actor: 'alice',
        actorId: '1001',
        environment: 'production',
        workflow: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
        workflowRef: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
        jobWorkflowRef: 'acme/api/.github/workflows/deploy.yml@refs/heads/main',
        event: 'push',
        runnerEnvironment: 'self-hosted',
        runId: '9001',
        runAttempt: '1',
        runUrl: 'https://github.com/acme/api/actions/runs/9001',
        fork: false,
      });
      assert.equal(issuer.discoveryHits, discoveries + 1);
    });

    it('accepts ES256 and an audience list that contains the configured audience', async () => {
      const r = resolver({ jwksUri: issuer.jwksUri });
      const discoveries = issuer.discoveryHits;
      const token = await issuer.issue(issuer.githubClaims(AUD, { aud: ['other', AUD] }), { alg: 'ES256' });
      const ctx = await r.resolve(token, {});
      assert.equal(ctx.repository, 'acme/api');
      assert.equal(issuer.discoveryHits, discoveries, 'a configured jwksUri skips discovery');
    });
  });

  describe('acceptance 2: claimed context is only compared', () => {
    it('denies a claimed ref the token contradicts, carrying both values', async () => {
      const r = resolver();
      const token = await issuer.issue(issuer.githubClaims(AUD, { ref: 'refs/heads/feature/x' }));
      await assert.rejects(r.resolve(token, { ref: 'refs/heads/main', repository: 'acme/api' }), (err: unknown) => {
        assert.ok(err instanceof ContextMismatchError);
        assert.ok(err instanceof PermissionDeniedError);
        assert.deepEqual(err.mismatches, [
          { field: 'ref', claimed: 'refs/heads/main', verified: 'refs/heads/feature/x' },
        ]);
        assert.equal(err.message, 'context mismatch: ref claimed "refs/heads/main", token says "refs/heads/feature/x"');
        return true;
      });
    });

    it('lists every mismatching field, and a claimed field the token lacks', async () => {
      const r = resolver();
      const token = await issuer.issue(
        issuer.githubClaims(AUD, { job_workflow_ref: undefined, workflow_ref: undefined, actor: 'mallory' }),
      );
      await assert.rejects(r.resolve(token, { actor: 'alice', workflow: 'acme/api/x.yml@refs/heads/main' }), (err: unknown) => {
        assert.ok(err instanceof ContextMismatchError);
        assert.deepEqual(err.mismatches, [
          { field: 'actor', claimed: 'alice', verified: 'mallory' },
          { field: 'workflow', claimed: 'acme/api/x.yml@refs/heads/main', verified: '' },
        ]);
        return true;
      });
    });
  });

  describe('reusable workflows: the claimed workflow may be the caller or the callee', () => {
    const caller = 'acme/api/.github/workflows/release.yml@refs/heads/main';
    const callee = 'acme/ci/.github/workflows/deploy.yml@refs/tags/v1';

    it('accepts GITHUB_WORKFLOW_REF (the caller, workflow_ref) and the callee (job_workflow_ref); the context is the callee', async () => {
      const r = resolver();
      for (const claimed of [caller, callee]) {
        const token = await issuer.issue(issuer.githubClaims(AUD, { workflow_ref: caller, job_workflow_ref: callee }));
        const ctx = await r.resolve(token, { workflow: claimed });
        assert.equal(ctx.workflow, callee);
        assert.equal(ctx.workflowRef, caller);
        assert.equal(ctx.jobWorkflowRef, callee);
      }
    });

    it('still refuses a workflow that is neither', async () => {
      const r = resolver();
      const token = await issuer.issue(issuer.githubClaims(AUD, { workflow_ref: caller, job_workflow_ref: callee }));
      const other = 'acme/api/.github/workflows/other.yml@refs/heads/main';
      await assert.rejects(r.resolve(token, { workflow: other }), (err: unknown) => {
        assert.ok(err instanceof ContextMismatchError);
        assert.deepEqual(err.mismatches, [{ field: 'workflow', claimed: other, verified: callee }]);
        return true;
      });
    });
  });

  describe('acceptance 3: forged and foreign tokens', () => {
    it('denies a wrong audience', async () => {
      const token = await issuer.issue(issuer.githubClaims(AUD, { aud: 'https://github.com/acme' }));
      await rejectsIdentity(resolver().resolve(token, {}), 'token audience mismatch');
    });

    it('denies an issuer that is not configured, even by a trailing slash', async () => {
      const r = resolver();
      const evil = await issuer.issue(issuer.githubClaims(AUD, { iss: 'https://token.example.evil' }));
      await rejectsIdentity(r.resolve(evil, {}), 'token issuer not trusted');
      const slash = await issuer.issue(issuer.githubClaims(AUD, { iss: `${issuer.issuer}/` }));
      await rejectsIdentity(r.resolve(slash, {}), 'token issuer not trusted');
    });

    it('denies alg none without fetching keys', async () => {
      const r = resolver();
      const hits = issuer.jwksHits;
      const token = await issuer.issue(issuer.githubClaims(AUD), { alg: 'none', kid: issuer.rsa.kid });
      await rejectsIdentity(r.resolve(token, {}), 'token algorithm not allowed');
      assert.equal(issuer.jwksHits, hits);
    });

    it('denies HS256 signed with the RSA public key as secret, even if HS256 is configured', async () => {
      const secret = new TextEncoder().encode(await exportSPKI(issuer.rsa.publicKey));
      const token = await issuer.issue(issuer.githubClaims(AUD), { alg: 'HS256', key: secret, kid: issuer.rsa.kid });
      await rejectsIdentity(resolver().resolve(token, {}), 'token algorithm not allowed');
      await rejectsIdentity(
        resolver({ algorithms: ['RS256', 'HS256'] }).resolve(token, {}),
        'token algorithm not allowed',
      );
    });

    it('denies a signature by a key that is not in the JWKS', async () => {
      const stray = await issuer.strayKey('RS256');
      const token = await issuer.issue(issuer.githubClaims(AUD), { key: stray.privateKey, kid: issuer.rsa.kid });
      await rejectsIdentity(resolver().resolve(token, {}), 'token signature invalid');
    });

    it('denies an unknown kid; a burst fetches the JWKS at most once per cooldown', async () => {
      const r = resolver({}, { jwksCooldownMs: 30_000 });
      await r.resolve(await issuer.issue(issuer.githubClaims(AUD)), {});
      const afterFirst = issuer.jwksHits;

      // EC keys: cheap to make, and an unknown kid is unknown whatever the key type.
      const unknownKid = async () => {
        const stray = await issuer.strayKey('ES256');
        return issuer.issue(issuer.githubClaims(AUD), { alg: 'ES256', key: stray.privateKey, kid: stray.kid });
      };
      const burst = async (n: number) => {
        const tokens = await Promise.all(Array.from({ length: n }, unknownKid));
        const results = await Promise.allSettled(tokens.map((t) => r.resolve(t, {})));
        for (const result of results) {
          assert.equal(result.status, 'rejected');
          assert.ok(result.reason instanceof IdentityError);
          assert.equal(result.reason.message, 'unknown signing key');
        }
        for (let i = 0; i < 3; i++) await rejectsIdentity(r.resolve(await unknownKid(), {}), 'unknown signing key');
      };

      // Within the cooldown of the first fetch: no fetch at all.
      await burst(10);
      assert.equal(issuer.jwksHits, afterFirst);

      clock.advance(30_000);
      await burst(10);
      assert.equal(issuer.jwksHits, afterFirst + 1);

      clock.advance(29_999);
      await burst(5);
      assert.equal(issuer.jwksHits, afterFirst + 1);

      // After the cooldown a rotated-in key is picked up by one refetch.
      clock.advance(1);
      const rotated = await issuer.addKey('ES256');
      const token = await issuer.issue(issuer.githubClaims(AUD), { alg: 'ES256', key: rotated.privateKey, kid: rotated.kid });
      const ctx = await r.resolve(token, {});
      assert.equal(ctx.repository, 'acme/api');
      assert.equal(issuer.jwksHits, afterFirst + 2);
    });

    it('fails closed with UnavailableError when the JWKS cannot be fetched', async () => {
      const r = resolver({ jwksUri: `${issuer.issuer}/no-such-jwks` });
      const token = await issuer.issue(issuer.githubClaims(AUD));
      await assert.rejects(r.resolve(token, {}), UnavailableError);
    });
  });

  describe('acceptance 4: time, on the injected clock', () => {
    it('denies an expired token, but not one inside the leeway', async () => {
      const r = resolver({ leewayMs: 30_000 });
      const late = await issuer.issue(issuer.githubClaims(AUD));
      const lenient = await issuer.issue(issuer.githubClaims(AUD));
      clock.advance(300_000 + 10_000);
      assert.equal((await r.resolve(lenient, {})).repository, 'acme/api');
      clock.advance(21_000);
      await rejectsIdentity(r.resolve(late, {}), 'token expired');
    });

    it('denies nbf in the future beyond the leeway, accepts it within', async () => {
      const r = resolver({ leewayMs: 30_000 });
      const now = Math.floor(clock.now() / 1000);
      const far = await issuer.issue(issuer.githubClaims(AUD, { nbf: now + 31 }));
      await rejectsIdentity(r.resolve(far, {}), 'token not yet valid');
      const near = await issuer.issue(issuer.githubClaims(AUD, { nbf: now + 29 }));
      assert.equal((await r.resolve(near, {})).ref, 'refs/heads/main');
    });

    it('denies a token older than maxTokenAge even before exp', async () => {
      const r = resolver({ maxTokenAgeMs: 60_000, leewayMs: 0 });
      const now = Math.floor(clock.now() / 1000);
      const token = await issuer.issue(issuer.githubClaims(AUD, { exp: now + 3600 }));
      clock.advance(61_000);
      await rejectsIdentity(r.resolve(token, {}), 'token too old');
    });
  });

  describe('acceptance 5: replay', () => {
    it('denies the same jti twice', async () => {
      const r = resolver();
      const token = await issuer.issue(issuer.githubClaims(AUD));
      await r.resolve(token, {});
      await rejectsIdentity(r.resolve(token, {}), 'token replayed');
      const sameJti = await issuer.issue(issuer.githubClaims(AUD, { jti: 'fixed-jti' }));
      const again = await issuer.issue(issuer.githubClaims(AUD, { jti: 'fixed-jti', run_id: '9002' }));
      await r.resolve(sameJti, {});
      await rejectsIdentity(r.resolve(again, {}), 'token replayed');
    });

    it('denies the same jti after a restart over the same SQLite file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'jitgate-identity-'));
      try {
        const path = join(dir, 'state.db');
        const token = await issuer.issue(issuer.githubClaims(AUD));
        const make = (s: SqliteStateStore) =>
          createOidcContextResolver({ issuers: [issuerConfigFor(issuer)], store: s, clock, logger: silentLogger() });

        const first = openSqliteStore({ path, clock });
        const r1 = make(first);
        await r1.resolve(token, {});
        r1.close();
        await first.close();

        const reopened = openSqliteStore({ path, clock });
        const r2 = make(reopened);
        try {
          await rejectsIdentity(r2.resolve(token, {}), 'token replayed');
        } finally {
          r2.close();
          await reopened.close();
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('requires a jti', async () => {
      const token = await issuer.issue(issuer.githubClaims(AUD, { jti: undefined }));
      await rejectsIdentity(resolver().resolve(token, {}), 'token lacks required claim "jti"');
    });
  });

  describe('claim hygiene', () => {
    it('refuses control characters in a claim and never echoes the token', async () => {
      const token = await issuer.issue(issuer.githubClaims(AUD, { ref: 'refs/heads/main\nx' }));
      await assert.rejects(resolver().resolve(token, {}), (err: unknown) => {
        assert.ok(err instanceof IdentityError);
        assert.equal(err.message, 'token claim "ref" contains control characters');
        assert.ok(!err.message.includes(token));
        return true;
      });
    });

    it('refuses a missing required claim and a bare ref', async () => {
      const noRepoId = await issuer.issue(issuer.githubClaims(AUD, { repository_id: undefined }));
      await rejectsIdentity(resolver().resolve(noRepoId, {}), 'token lacks required claim "repository_id"');
      const bare = await issuer.issue(issuer.githubClaims(AUD, { ref: 'main' }));
      await rejectsIdentity(resolver().resolve(bare, {}), 'token claim "ref" is not a full ref');
    });

    it('refuses a malformed token without echoing it', async () => {
      await rejectsIdentity(resolver().resolve('not-a-jwt', {}), 'malformed token');
      await rejectsIdentity(resolver().resolve(undefined, {}), 'a CI identity token is required');
    });

    it('refuses to resolve after close', async () => {
      const r = resolver();
      r.close();
      const token = await issuer.issue(issuer.githubClaims(AUD));
      await assert.rejects(r.resolve(token, {}), UnavailableError);
    });
  });
});
