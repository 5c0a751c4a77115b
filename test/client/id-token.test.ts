import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { obtainIdToken } from '../../src/client/id-token.js';
import { ManualClock } from '../../src/common/clock.js';
import { IdentityError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { createOidcContextResolver } from '../../src/daemon/identity/oidc-context-resolver.js';
import { openSqliteStore } from '../../src/daemon/state/sqlite-store.js';
import { issuerConfigFor, startCiIssuer, type CiIssuer } from '../support/ci-issuer.js';

describe('obtainIdToken', () => {
  let issuer: CiIssuer;
  let dir: string;
  const clock = new ManualClock();

  before(async () => {
    issuer = await startCiIssuer({ clock });
    dir = await mkdtemp(join(tmpdir(), 'jitgate-id-token-'));
  });

  after(async () => {
    await issuer.close();
    await rm(dir, { recursive: true, force: true });
  });

  function githubEnv(): Record<string, string> {
    return {
      ACTIONS_ID_TOKEN_REQUEST_URL: issuer.actions.requestUrl,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.actions.requestToken,
    };
  }

  it('acceptance 8: gets a token for the configured audience inside a GitHub Actions job, which the daemon accepts', async () => {
    const token = await obtainIdToken({ env: githubEnv(), audience: 'jitgate' });
    assert.equal(decodeJwt(token).aud, 'jitgate');
    assert.equal(issuer.actions.audiences.at(-1), 'jitgate');

    const store = openSqliteStore({ path: ':memory:', clock });
    const resolver = createOidcContextResolver({ issuers: [issuerConfigFor(issuer)], store, clock, logger: silentLogger() });
    try {
      const ctx = await resolver.resolve(token, { repository: 'acme/api' });
      assert.equal(ctx.trust, 'oidc');
      assert.equal(ctx.repository, 'acme/api');
    } finally {
      resolver.close();
      await store.close();
    }
  });

  it('acceptance 8: without the env vars the error names id-token: write and every other way', async () => {
    await assert.rejects(obtainIdToken({ env: {}, audience: 'jitgate' }), (err: unknown) => {
      assert.ok(err instanceof IdentityError);
      assert.match(err.message, /permissions: id-token: write/);
      assert.match(err.message, /ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set/);
      assert.match(err.message, /id_tokens: JITGATE_ID_TOKEN: aud: jitgate/);
      assert.match(err.message, /--id-token-file/);
      return true;
    });
  });

  it('says which GitHub variable is missing when only one is set', async () => {
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: issuer.actions.requestUrl };
    await assert.rejects(obtainIdToken({ env, audience: 'jitgate' }), /only ACTIONS_ID_TOKEN_REQUEST_URL is set/);
  });

  it('reports a refused token request without echoing the request token', async () => {
    const env = { ...githubEnv(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'wrong-request-token' };
    await assert.rejects(obtainIdToken({ env, audience: 'jitgate' }), (err: unknown) => {
      assert.ok(err instanceof IdentityError);
      assert.match(err.message, /HTTP 401/);
      assert.match(err.message, /id-token: write/);
      assert.ok(!err.message.includes('wrong-request-token'));
      return true;
    });
  });

  it('reads the GitLab id_tokens variable, by default or by name', async () => {
    const token = await issuer.issue(issuer.gitlabClaims('jitgate'));
    assert.equal(await obtainIdToken({ env: { JITGATE_ID_TOKEN: token }, audience: 'jitgate' }), token);
    assert.equal(
      await obtainIdToken({ env: { MY_TOKEN: `${token}\n` }, audience: 'jitgate', gitlabVariable: 'MY_TOKEN' }),
      token,
    );
    await assert.rejects(obtainIdToken({ env: { JITGATE_ID_TOKEN: 'garbage' }, audience: 'jitgate' }), (err: unknown) => {
      assert.ok(err instanceof IdentityError);
      assert.equal(err.message, 'the CI identity token from $JITGATE_ID_TOKEN is not a JWT');
      return true;
    });
  });

  it('prefers --id-token-file over the environment', async () => {
    const fileToken = await issuer.issue(issuer.githubClaims('jitgate', { run_id: '1' }));
    const file = join(dir, 'token');
    await writeFile(file, `${fileToken}\n`, { mode: 0o600 });
    const got = await obtainIdToken({ env: { ...githubEnv(), JITGATE_ID_TOKEN: 'a.b.c' }, audience: 'jitgate', file });
    assert.equal(got, fileToken);
    await assert.rejects(obtainIdToken({ env: {}, audience: 'jitgate', file: join(dir, 'missing') }), IdentityError);
  });
});
