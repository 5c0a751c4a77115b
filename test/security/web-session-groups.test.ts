/**
 * Security review, "a web session outlives the IdP token's groups": an approver signed in on the
 * approval page kept the groups of sign-in time for the whole session (1 h), so someone removed
 * from `sre` at the IdP could still approve as `sre`, and a session outlived its ID token. Now each
 * decision asks the IdP's userinfo endpoint (with the sign-in's access token) for the groups as
 * they are now, a refused access token ends the session, an unreachable IdP refuses the decision,
 * and no session lasts past its ID token. Tested with a real OpenID Provider and the real page.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/common/logger.js';
import { createHttpServer, type HttpServer } from '../../src/daemon/http/http-server.js';
import { mountApprovalPages, SESSION_COOKIE, type ApprovalPages } from '../../src/daemon/web/approval-pages.js';
import { accessInput, LOCAL_CONTEXT, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startIdp, type TestIdp } from '../support/idp.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { csrfOf, IDP_CLIENT_SECRET, IDP_REDIRECT_URI, WebClient } from '../daemon/web/web-client.js';

const POLICIES = `
  - name: needs-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 30m }
  - name: everything-else
    decision: deny`;

const ID_TOKEN_TTL_S = 300;

describe('security: web sessions re-check group membership at decision time', () => {
  let env: VaultEnv;
  let fixture: GateFixture;
  let idp: TestIdp;
  let dir: string;
  const servers: HttpServer[] = [];
  const pages: ApprovalPages[] = [];
  const probes: StreamProbe[] = [];
  /** While true, the page's calls to the IdP's userinfo endpoint fail as a network outage would. */
  let userinfoDown = false;
  /** While true, the IdP's discovery document is served without `userinfo_endpoint`. */
  let hideUserinfo = false;

  const seam: typeof fetch = async (input, init) => {
    const url = input instanceof Request ? input.url : input.toString();
    if (url.endsWith('/me') && userinfoDown) throw new TypeError('fetch failed: connect ECONNREFUSED');
    const res = await fetch(input, init);
    if (!hideUserinfo || !url.endsWith('/.well-known/openid-configuration')) return res;
    const { userinfo_endpoint: _dropped, ...doc } = (await res.json()) as Record<string, unknown>;
    return new Response(JSON.stringify(doc), { status: 200, headers: { 'content-type': 'application/json' } });
  };

  /** The approval page on its own listener (its own sessions), with or without re-checks. */
  async function mount(recheckGroups: boolean): Promise<string> {
    const server = createHttpServer({ listen: '127.0.0.1:0', logger: silentLogger() });
    servers.push(server);
    pages.push(
      await mountApprovalPages({
        server,
        settings: {
          approvers: { issuer: idp.issuer, audience: idp.clientId, groupsClaim: 'groups' },
          clientId: idp.clientId,
          clientSecretFile: join(dir, 'client-secret'),
          scopes: ['openid', 'profile', 'email', 'groups'],
          recheckGroups,
          redirectUri: IDP_REDIRECT_URI,
        },
        groups: {},
        gate: fixture.gate,
        audit: fixture.audit,
        clock: fixture.clock,
        logger: silentLogger(),
        fetch: seam,
      }),
    );
    return `http://${await server.start()}`;
  }

  before(async () => {
    env = await startVaultWithDatabase();
    fixture = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    idp = await startIdp({
      idTokenTtlSeconds: ID_TOKEN_TTL_S,
      users: ['carol', 'dave', 'erin', 'frank', 'gina'].map((name) => ({ sub: `u-${name}`, email: `${name}@acme.test`, groups: ['sre'] })),
    });
    dir = await mkdtemp(join(tmpdir(), 'jitgate-sessions-'));
    await writeFile(join(dir, 'client-secret'), `${IDP_CLIENT_SECRET}\n`, { mode: 0o600 });
  });

  after(async () => {
    for (const probe of probes) probe.controller.abort();
    await Promise.all(probes.map((p) => p.done));
    for (const p of pages) p.close();
    for (const server of servers) await server.close();
    await idp.close();
    await fixture.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function pending(): Promise<string> {
    const probe = new StreamProbe(fixture.gate, accessInput({ claimed: LOCAL_CONTEXT }));
    probes.push(probe);
    return (await probe.next('pending')).request.id;
  }

  async function signedIn(base: string, id: string, user: string): Promise<{ browser: WebClient; csrf: string }> {
    const browser = new WebClient(base);
    const done = await browser.signIn(id, user);
    assert.equal(done.status, 303, `${user} signed in`);
    await done.body?.cancel();
    const page = await (await browser.fetch(`/requests/${id}`)).text();
    assert.match(page, new RegExp(`Signed in as ${user.slice(2)}@acme\\.test`));
    return { browser, csrf: csrfOf(page) };
  }

  async function approve(browser: WebClient, id: string, csrf: string): Promise<Response> {
    const res = await browser.post(`/requests/${id}/approve`, { csrf, comment: 'ok' });
    await res.body?.cancel();
    return res;
  }

  it('someone removed from the group at the IdP after signing in is refused; put back, they approve', async () => {
    const base = await mount(true);
    const id = await pending();
    const { browser, csrf } = await signedIn(base, id, 'u-carol');
    idp.setGroups('u-carol', ['sales']);
    try {
      assert.equal((await approve(browser, id, csrf)).status, 303);
      const shown = await (await browser.fetch(`/requests/${id}`)).text();
      assert.match(shown, /class="flash flash-error"/);
      assert.equal((await fixture.gate.getRequest(id)).status, 'pending', 'the stale sre membership approved nothing');
      assert.equal((await fixture.gate.getRequest(id)).approvals.length, 0);
    } finally {
      idp.setGroups('u-carol', ['sre']);
    }
    assert.equal((await approve(browser, id, csrf)).status, 303);
    const view = await fixture.gate.getRequest(id);
    assert.ok(['approved', 'granted'].includes(view.status), view.status);
    assert.deepEqual(view.approvals.map((a) => a.subject), ['u-carol']);
  });

  it('a user the IdP no longer accepts loses the session and is sent to sign in again; nothing is decided', async () => {
    const base = await mount(true);
    const id = await pending();
    const { browser, csrf } = await signedIn(base, id, 'u-dave');
    idp.removeUser('u-dave');
    const res = await approve(browser, id, csrf);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/auth/login?return=${encodeURIComponent(`/requests/${id}`)}`);
    const page = await (await browser.fetch(`/requests/${id}`)).text();
    assert.doesNotMatch(page, /Signed in as/, 'the session is gone');
    assert.equal((await approve(browser, id, csrf)).status, 403, 'the old session cookie decides nothing');
    assert.equal((await fixture.gate.getRequest(id)).status, 'pending');
    assert.equal((await fixture.gate.getRequest(id)).approvals.length, 0);
  });

  it('when the IdP cannot be asked, the decision is refused rather than made with the groups of sign-in time', async () => {
    const base = await mount(true);
    const id = await pending();
    const { browser, csrf } = await signedIn(base, id, 'u-erin');
    userinfoDown = true;
    try {
      assert.equal((await approve(browser, id, csrf)).status, 303);
      assert.match(await (await browser.fetch(`/requests/${id}`)).text(), /could not be re-checked at the identity provider; nothing was changed/);
      assert.equal((await fixture.gate.getRequest(id)).status, 'pending');
    } finally {
      userinfoDown = false;
    }
    assert.equal((await approve(browser, id, csrf)).status, 303);
    assert.ok(['approved', 'granted'].includes((await fixture.gate.getRequest(id)).status));
  });

  it('refuses a sign-in it could not re-check later (no userinfo endpoint) unless recheck_groups is off', async () => {
    const base = await mount(true);
    const id = await pending();
    hideUserinfo = true;
    try {
      const browser = new WebClient(base);
      const res = await browser.signIn(id, 'u-frank');
      assert.equal(res.status, 403);
      assert.match(await res.text(), /recheck_groups/);
      assert.equal(browser.cookie(SESSION_COOKIE), undefined);
      const lax = await mount(false);
      await signedIn(lax, id, 'u-frank');
    } finally {
      hideUserinfo = false;
    }
  });

  it('with recheck_groups off, a session ends when its ID token expires', async () => {
    const base = await mount(false);
    const id = await pending();
    const { browser, csrf } = await signedIn(base, id, 'u-gina');
    // The fixture's clock started a little before the IdP stamped `exp` in real time: a margin,
    // still far short of the session store's own hour, so only the ID token can end the session.
    fixture.clock.advance((ID_TOKEN_TTL_S + 120) * 1000);
    const res = await approve(browser, id, csrf);
    assert.equal(res.status, 403, 'Sign in first.');
    assert.doesNotMatch(await (await browser.fetch(`/requests/${id}`)).text(), /Signed in as/);
    assert.equal((await fixture.gate.getRequest(id)).approvals.length, 0);
  });
});
