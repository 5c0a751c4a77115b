import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../src/common/logger.js';
import { createHttpServer, type HttpServer } from '../../../src/daemon/http/http-server.js';
import { LOGIN_COOKIE, mountApprovalPages, SESSION_COOKIE, type ApprovalPages } from '../../../src/daemon/web/approval-pages.js';
import { accessInput, LOCAL_CONTEXT, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../../support/gate-fixture.js';
import { startIdp, type TestIdp } from '../../support/idp.js';
import { startVaultWithDatabase } from '../../../tools/vault-compat/src/start.js';
import { csrfOf, IDP_CLIENT_SECRET, IDP_REDIRECT_URI, WebClient } from './web-client.js';

const POLICIES = `
  - name: needs-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`;

describe('approval web page', () => {
  let env: VaultEnv;
  let fixture: GateFixture;
  let idp: TestIdp;
  let server: HttpServer;
  let pages: ApprovalPages | undefined;
  let base: string;
  let dir: string;
  const probes: StreamProbe[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    fixture = await startGateFixture({ vaultEnv: env, policies: POLICIES });
    idp = await startIdp({
      users: [
        { sub: 'u-carol', preferredUsername: 'carol', email: 'carol@acme.test', groups: ['sre'] },
        // The CI actor of every request below: in the approver group, yet never allowed to approve it.
        { sub: 'u-alice', preferredUsername: 'alice', email: 'alice@acme.test', groups: ['sre'] },
        { sub: 'u-mallory', preferredUsername: 'mallory', groups: ['sales'] },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'jitgate-web-'));
    await writeFile(join(dir, 'client-secret'), `${IDP_CLIENT_SECRET}\n`, { mode: 0o600 });
    server = createHttpServer({ listen: '127.0.0.1:0', logger: silentLogger() });
    pages = await mountApprovalPages({
      server,
      settings: {
        approvers: { issuer: idp.issuer, audience: idp.clientId, groupsClaim: 'groups' },
        clientId: idp.clientId,
        clientSecretFile: join(dir, 'client-secret'),
        scopes: ['openid', 'profile', 'email', 'groups'],
        recheckGroups: true,
        redirectUri: IDP_REDIRECT_URI,
      },
      groups: {},
      gate: fixture.gate,
      audit: fixture.audit,
      clock: fixture.clock,
      logger: silentLogger(),
    });
    base = `http://${await server.start()}`;
  });

  after(async () => {
    for (const probe of probes) probe.controller.abort();
    await Promise.all(probes.map((p) => p.done));
    pages?.close();
    await server.close();
    await idp.close();
    await fixture.close();
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function pending(ref: string = LOCAL_CONTEXT.ref): Promise<string> {
    const probe = new StreamProbe(fixture.gate, accessInput({ claimed: { ...LOCAL_CONTEXT, ref } }));
    probes.push(probe);
    return (await probe.next('pending')).request.id;
  }

  async function status(id: string): Promise<string> {
    return (await fixture.gate.getRequest(id)).status;
  }

  it('GET shows the request with strict headers and a sign-in link, and never changes it', async () => {
    const id = await pending();
    const browser = new WebClient(base);
    for (let i = 0; i < 5; i++) {
      const res = await browser.fetch(`/requests/${id}`);
      assert.equal(res.status, 200);
      const body = await res.text();
      assert.match(body, /acme\/api/);
      assert.match(body, /demo-db/);
      assert.match(body, /href="\/auth\/login\?return=%2Frequests%2F/);
      assert.doesNotMatch(body, /<form/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    }
    assert.equal(await status(id), 'pending');
    const unknown = await browser.fetch('/requests/req_nope');
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });

  it('escapes a hostile branch name', async () => {
    const id = await pending('refs/heads/"><script>alert(1)</script>');
    const body = await (await new WebClient(base).fetch(`/requests/${id}`)).text();
    assert.doesNotMatch(body, /<script>/);
    assert.match(body, /refs\/heads\/&#34;&#62;&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
  });

  it('refuses POSTs without a session, without or with a wrong CSRF token, or from another origin', async () => {
    const id = await pending();
    const anonymous = new WebClient(base);
    const noSession = await anonymous.post(`/requests/${id}/approve`, { csrf: 'x', comment: '' });
    assert.equal(noSession.status, 403);
    await noSession.body?.cancel();

    const carol = new WebClient(base);
    const signedIn = await carol.signIn(id, 'u-carol');
    assert.equal(signedIn.status, 303);
    assert.equal(signedIn.headers.get('location'), `/requests/${id}`);
    const [sessionCookie, loginCookie, ...more] = signedIn.headers.getSetCookie();
    assert.match(sessionCookie ?? '', new RegExp(`^${SESSION_COOKIE}=[\\w-]+; HttpOnly; SameSite=Lax; Path=/$`));
    // The sealed sign-in is spent: the browser is told to drop it.
    assert.equal(loginCookie, `${LOGIN_COOKIE}=; HttpOnly; SameSite=Lax; Path=/auth; Max-Age=0`);
    assert.deepEqual(more, []);
    assert.equal(carol.cookie(LOGIN_COOKIE), undefined);
    await signedIn.body?.cancel();
    const csrf = csrfOf(await (await carol.fetch(`/requests/${id}`)).text());

    const attempts: [string, Record<string, string>, Record<string, string>][] = [
      ['no csrf', { comment: 'ok' }, { origin: base }],
      // Change the last character to one it is not, so the token is always wrong.
      ['wrong csrf', { csrf: `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`, comment: 'ok' }, { origin: base }],
      ['cross-site origin', { csrf, comment: 'ok' }, { origin: 'https://evil.example' }],
      ['cross-site fetch metadata', { csrf }, { 'sec-fetch-site': 'cross-site' }],
      ['no origin at all', { csrf }, {}],
    ];
    for (const [what, form, headers] of attempts) {
      for (const action of ['approve', 'deny']) {
        const res = await carol.post(`/requests/${id}/${action}`, { ...form, reason: 'no' }, headers);
        assert.equal(res.status, 403, `${what} ${action}`);
        await res.body?.cancel();
      }
    }
    assert.equal(await status(id), 'pending');
    assert.equal((await fixture.gate.getRequest(id)).approvals.length, 0);
  });

  it('approves through the page as an IdP-verified approver, then shows the outcome', async () => {
    const id = await pending();
    const carol = new WebClient(base);
    await (await carol.signIn(id, 'u-carol')).body?.cancel();
    const page = await (await carol.fetch(`/requests/${id}`)).text();
    assert.match(page, /Signed in as carol@acme\.test \(u-carol\)/);
    const res = await carol.post(`/requests/${id}/approve`, { csrf: csrfOf(page), comment: 'looks right' });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/requests/${id}`);
    await res.body?.cancel();
    const view = await fixture.gate.getRequest(id);
    assert.ok(['approved', 'granted'].includes(view.status), view.status);
    assert.deepEqual(
      view.approvals.map((a) => [a.subject, a.trust, a.comment]),
      [['u-carol', 'idp', 'looks right']],
    );
    const after = await (await carol.fetch(`/requests/${id}`)).text();
    assert.match(after, /Approved: the request is now/);
    assert.match(after, /approved<\/strong> by carol@acme\.test/);
    assert.doesNotMatch(after, /<form/);
  });

  it('applies the same rules as the CLI: the requester cannot approve, an outsider cannot either', async () => {
    const id = await pending();
    for (const user of ['u-alice', 'u-mallory']) {
      const browser = new WebClient(base);
      await (await browser.signIn(id, user)).body?.cancel();
      const csrf = csrfOf(await (await browser.fetch(`/requests/${id}`)).text());
      const res = await browser.post(`/requests/${id}/approve`, { csrf });
      assert.equal(res.status, 303);
      await res.body?.cancel();
      const shown = await (await browser.fetch(`/requests/${id}`)).text();
      assert.match(shown, /class="flash flash-error"/, user);
      assert.equal(await status(id), 'pending', user);
    }
    assert.equal((await fixture.gate.getRequest(id)).approvals.length, 0);
  });

  it('denies with a reason, and needs one', async () => {
    const id = await pending();
    const carol = new WebClient(base);
    await (await carol.signIn(id, 'u-carol')).body?.cancel();
    const csrf = csrfOf(await (await carol.fetch(`/requests/${id}`)).text());
    await (await carol.post(`/requests/${id}/deny`, { csrf, reason: '  ' })).body?.cancel();
    assert.match(await (await carol.fetch(`/requests/${id}`)).text(), /A denial needs a reason/);
    assert.equal(await status(id), 'pending');
    await (await carol.post(`/requests/${id}/deny`, { csrf, reason: 'wrong window' })).body?.cancel();
    assert.equal(await status(id), 'denied');
  });

  it('refuses a callback it did not start, and never redirects off-site after sign-in', async () => {
    const stranger = new WebClient(base);
    const forged = await stranger.fetch('/auth/callback?code=abc&state=xyz');
    assert.equal(forged.status, 400);
    await forged.body?.cancel();
    assert.equal(stranger.cookie(SESSION_COOKIE), undefined);

    const browser = new WebClient(base);
    const start = await browser.fetch(`/auth/login?return=${encodeURIComponent('https://evil.example/x')}`);
    assert.equal(start.status, 303);
    await start.body?.cancel();
    // Starting a sign-in makes no session: its state is sealed into a cookie only /auth/* sees.
    assert.equal(browser.cookie(SESSION_COOKIE), undefined);
    assert.match(start.headers.get('set-cookie') ?? '', new RegExp(`^${LOGIN_COOKIE}=[\\w-]{200,}; HttpOnly; SameSite=Lax; Path=/auth; Max-Age=600$`));
    const auth = new URL(start.headers.get('location') ?? '');
    assert.equal(auth.origin, idp.issuer);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(auth.searchParams.get('redirect_uri'), IDP_REDIRECT_URI);
    assert.ok((auth.searchParams.get('state') ?? '').length >= 32);
    assert.ok((auth.searchParams.get('nonce') ?? '').length >= 32);
    // Completing a sign-in whose return was off-site lands on the home page instead.
    const id = await pending();
    const done = await browser.signIn(id, 'u-carol');
    assert.equal(done.headers.get('location'), `/requests/${id}`);
    await done.body?.cancel();
    // The callback URL is single-use.
    const replay = await browser.fetch('/auth/callback?code=abc&state=xyz');
    assert.equal(replay.status, 400);
    await replay.body?.cancel();
  });
});
