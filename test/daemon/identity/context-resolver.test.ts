import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import type { ClaimedContext } from '../../../src/model/context.js';
import { IdentityError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import { createContextResolver, createOidcContextResolver } from '../../../src/daemon/identity/oidc-context-resolver.js';
import { openSqliteStore, type SqliteStateStore } from '../../../src/daemon/state/sqlite-store.js';
import { issuerConfigFor, startCiIssuer, type CiIssuer } from '../../support/ci-issuer.js';

const CLAIMED: ClaimedContext = {
  repository: 'acme/api',
  ref: 'refs/heads/main',
  sha: 'abc1234',
  actor: 'alice',
  environment: 'production',
};

describe('context resolver selection', () => {
  let clock: ManualClock;
  let issuer: CiIssuer;
  let store: SqliteStateStore;
  let oidc: ReturnType<typeof createOidcContextResolver>;

  before(async () => {
    clock = new ManualClock();
    issuer = await startCiIssuer({ clock });
    store = openSqliteStore({ path: ':memory:', clock });
    oidc = createOidcContextResolver({ issuers: [issuerConfigFor(issuer)], store, clock, logger: silentLogger() });
  });

  after(async () => {
    oidc.close();
    await store.close();
    await issuer.close();
  });

  it('uses OIDC whenever a token is presented, even with local mode on', async () => {
    const r = createContextResolver({ local: true, oidc });
    const ctx = await r.resolve(await issuer.issue(issuer.githubClaims('jitgate')), {});
    assert.equal(ctx.trust, 'oidc');
  });

  it('never falls back to local context when a token fails verification', async () => {
    const r = createContextResolver({ local: true, oidc });
    const bad = await issuer.issue(issuer.githubClaims('someone-else'));
    await assert.rejects(r.resolve(bad, CLAIMED), (err: unknown) => {
      assert.ok(err instanceof IdentityError);
      assert.equal(err.message, 'token audience mismatch');
      return true;
    });
  });

  it('uses local context without a token only when local mode is on', async () => {
    const on = createContextResolver({ local: true, oidc });
    assert.equal((await on.resolve(undefined, CLAIMED)).trust, 'local');
    assert.equal((await createContextResolver({ local: true }).resolve('ignored', CLAIMED)).trust, 'local');

    await assert.rejects(createContextResolver({ local: false, oidc }).resolve(undefined, CLAIMED), /token is required/);
    await assert.rejects(createContextResolver({ local: false }).resolve('x.y.z', CLAIMED), /no CI identity issuer/);
  });
});
