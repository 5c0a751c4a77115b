import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { base64url, decodeJwt, SignJWT } from 'jose';
import { ManualClock } from '../../../src/common/clock.js';
import type { ApproverIdentity } from '../../../src/model/context.js';
import { IdentityError, PermissionDeniedError } from '../../../src/common/errors.js';
import { silentLogger } from '../../../src/common/logger.js';
import type { ApproverIdpConfig } from '../../../src/daemon/config/types.js';
import type { ApproverResolver } from '../../../src/daemon/gate/types.js';
import { createApproverResolver } from '../../../src/daemon/identity/approver-resolver.js';
import { createIdpApproverResolver, type IdpApproverResolverOptions } from '../../../src/daemon/identity/idp-approver-resolver.js';
import { accessInput, startGateFixture, StreamProbe, type GateFixture } from '../../support/gate-fixture.js';
import { startIdp, type IdpUser, type TestIdp } from '../../support/idp.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../../tools/vault-compat/src/start.js';

const USERS: IdpUser[] = [
  { sub: 'u-carol', preferredUsername: 'carol', email: 'carol@acme.test', groups: ['sre', 'dba'] },
  { sub: 'u-bob', preferredUsername: 'bob', email: 'bob@acme.test', groups: ['sre'] },
  // Same person as the CI actor `alice` (gate-fixture's LOCAL_CONTEXT).
  { sub: 'u-alice', preferredUsername: 'alice', email: 'alice@acme.test', groups: ['sre'] },
  // No username and no groups claim.
  { sub: 'u-dave', email: 'dave.k@acme.test' },
  // The IdP username differs from the CI login, which sits in its own claim.
  { sub: 'u-erin', preferredUsername: 'erin.w', groups: ['sre'], extra: { github_login: 'erin-gh' } },
];

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Fails unless `promise` rejects with an IdentityError whose message matches and never holds the token. */
async function rejectsIdentity(promise: Promise<unknown>, reason: RegExp, token?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IdentityError, `expected IdentityError, got ${String(err)}`);
    assert.match(err.message, reason);
    if (token !== undefined) {
      for (const part of token.split('.').filter((p) => p.length > 8)) assert.ok(!err.message.includes(part), 'message echoes the token');
    }
    return true;
  });
}

describe('IdP approver resolver (real oidc-provider)', () => {
  let idp: TestIdp;
  let otherIdp: TestIdp;
  let clock: ManualClock;
  const closers: { close(): void }[] = [];

  before(async () => {
    idp = await startIdp({ users: USERS });
    otherIdp = await startIdp({ users: USERS });
    clock = new ManualClock(Date.now());
  });
  after(async () => {
    for (const c of closers) c.close();
    await idp.close();
    await otherIdp.close();
  });

  function config(overrides: Partial<ApproverIdpConfig> = {}): ApproverIdpConfig {
    return { issuer: idp.issuer, audience: idp.clientId, groupsClaim: 'groups', ...overrides };
  }

  function resolver(overrides: Partial<ApproverIdpConfig> = {}, extra: Partial<IdpApproverResolverOptions> = {}) {
    const r = createIdpApproverResolver({ config: config(overrides), clock, logger: silentLogger(), ...extra });
    closers.push(r);
    return r;
  }

  it('a signed-in user becomes an IdP identity named by the verified email, with the groups from the token (JWKS discovered)', async () => {
    const token = await idp.login('u-carol');
    const who = await resolver().resolve(bearer(token));
    assert.deepEqual(who, {
      subject: 'u-carol',
      name: 'carol@acme.test',
      groups: ['dba', 'sre'],
      aliases: ['carol', 'carol@acme.test'],
      trust: 'idp',
    });
  });

  it('no groups claim means no groups; the name is the verified email, whose local part is an alias', async () => {
    const who = await resolver().resolve(bearer(await idp.login('u-dave')));
    assert.equal(who.subject, 'u-dave');
    assert.equal(who.name, 'dave.k@acme.test');
    assert.deepEqual(who.groups, []);
    assert.deepEqual(who.aliases, ['dave.k@acme.test', 'dave.k']);
  });

  it('adds static config groups naming the subject (not the username), and configured actor claims as aliases', async () => {
    const r = resolver({ jwksUri: idp.jwksUri }, { groups: { oncall: ['u-erin'], dba: ['erin.w'] }, actorClaims: ['github_login'] });
    const who = await r.resolve(bearer(await idp.login('u-erin')));
    assert.deepEqual(who.groups, ['oncall', 'sre']);
    assert.ok(who.aliases.includes('erin-gh'));
    assert.ok(who.aliases.includes('erin.w'));
  });

  it('refuses a token for another audience (another client of the same IdP)', async () => {
    const token = await idp.login('u-carol', { clientId: idp.otherClientId });
    assert.equal(decodeJwt(token).aud, idp.otherClientId);
    await rejectsIdentity(resolver().resolve(bearer(token)), /^approver token audience mismatch$/, token);
  });

  it('refuses a token from another issuer', async () => {
    const foreign = await otherIdp.login('u-carol');
    await rejectsIdentity(resolver().resolve(bearer(foreign)), /^(unknown signing key|approver token signature invalid)$/, foreign);
    // Keys that do verify it do not make its issuer acceptable.
    const r = resolver({ jwksUri: otherIdp.jwksUri });
    await rejectsIdentity(r.resolve(bearer(foreign)), /^approver token issuer mismatch$/, foreign);
  });

  it('refuses an expired token beyond the leeway, and one issued in the future', async () => {
    const token = await idp.login('u-carol');
    const { exp, iat } = decodeJwt(token);
    assert.ok(exp !== undefined && iat !== undefined);
    const local = new ManualClock((exp - 10) * 1000);
    const r = createIdpApproverResolver({ config: config(), clock: local, logger: silentLogger() });
    closers.push(r);
    assert.equal((await r.resolve(bearer(token))).subject, 'u-carol');
    local.advance(20_000); // 10 s past exp: inside the 30 s leeway
    assert.equal((await r.resolve(bearer(token))).subject, 'u-carol');
    local.advance(30_000);
    await rejectsIdentity(r.resolve(bearer(token)), /^approver token expired$/, token);
    local.setWall((iat - 120) * 1000);
    await rejectsIdentity(r.resolve(bearer(token)), /^approver token issued in the future$/, token);
  });

  it('refuses a token older than the maximum age even before it expires', async () => {
    const token = await idp.login('u-carol');
    const { iat } = decodeJwt(token);
    assert.ok(iat !== undefined);
    const local = new ManualClock((iat + 60) * 1000);
    const r = createIdpApproverResolver({ config: config(), clock: local, logger: silentLogger(), maxTokenAgeMs: 60_000, leewayMs: 0 });
    closers.push(r);
    assert.equal((await r.resolve(bearer(token))).subject, 'u-carol');
    local.advance(1_000);
    await rejectsIdentity(r.resolve(bearer(token)), /^approver token too old: sign in again$/, token);
  });

  it('refuses unsigned, HMAC-signed and altered tokens', async () => {
    const token = await idp.login('u-dave');
    const [header = '', payload = '', signature = ''] = token.split('.');
    const claims = decodeJwt(token);
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`;
    await rejectsIdentity(resolver().resolve(bearer(unsigned)), /^approver token algorithm not allowed$/);
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'idp-rs256' }).sign(new TextEncoder().encode('k'.repeat(32)));
    await rejectsIdentity(resolver().resolve(bearer(hmac)), /^approver token algorithm not allowed$/);
    // The same signature over a payload that adds a group.
    const widened = base64url.encode(JSON.stringify({ ...claims, groups: ['sre'] }));
    await rejectsIdentity(resolver().resolve(bearer(`${header}.${widened}.${signature}`)), /^approver token signature invalid$/, token);
    await rejectsIdentity(resolver().resolve(bearer('not-a-jwt')), /^malformed approver token$/);
  });

  it('without a bearer token, or with another scheme, says how to present one', async () => {
    await rejectsIdentity(resolver().resolve({}), /authorization: Bearer/);
    await rejectsIdentity(resolver().resolve({ authorization: 'Basic Ym9iOnB3' }), /expected "Bearer <IdP token>"/);
  });
});

describe('approver resolver selection', () => {
  const fixed: ApproverIdentity = { subject: 'u-1', name: 'carol', groups: ['sre'], aliases: ['carol'], trust: 'idp' };
  const idp: ApproverResolver = {
    resolve: (md) =>
      md.authorization === 'Bearer good.token.sig' ? Promise.resolve(fixed) : Promise.reject(new IdentityError('approver token signature invalid')),
  };

  it('a presented bearer token always goes to the IdP, even when a local name is also sent', async () => {
    const r = createApproverResolver({ local: true, groups: { sre: ['bob'] }, idp });
    assert.deepEqual(await r.resolve({ authorization: 'Bearer good.token.sig', 'x-jitgate-approver': 'bob' }), fixed);
    // A bad token is a refusal, never a fall back to the self-asserted name.
    await rejectsIdentity(r.resolve({ authorization: 'Bearer bad.token.sig', 'x-jitgate-approver': 'bob' }), /signature invalid/);
  });

  it('the local header counts only in local mode and without a token', async () => {
    const on = createApproverResolver({ local: true, groups: { sre: ['bob'] }, idp });
    assert.deepEqual(await on.resolve({ 'x-jitgate-approver': 'bob' }), { subject: 'bob', name: 'bob', groups: ['sre'], aliases: ['bob'], trust: 'local' });
    const off = createApproverResolver({ local: false, idp });
    await rejectsIdentity(off.resolve({ 'x-jitgate-approver': 'bob' }), /local approvers \(--as\) are off: .*--approver-token-file/);
    await rejectsIdentity(off.resolve({}), /^no approver identity: .*--approver-token-file FILE/);
  });

  it('a token with no IdP configured, or nothing configured at all, is refused', async () => {
    const localOnly = createApproverResolver({ local: true });
    await rejectsIdentity(localOnly.resolve({ authorization: 'Bearer good.token.sig', 'x-jitgate-approver': 'bob' }), /no identity provider is configured/);
    await rejectsIdentity(createApproverResolver({ local: false }).resolve({}), /identity\.approvers/);
  });
});

describe('IdP approvers through the real gate', () => {
  let env: VaultWithDatabase;
  let idp: TestIdp;
  let f: GateFixture;
  let approvers: ApproverResolver & { close(): void };

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: USERS });
    f = await startGateFixture({
      vaultEnv: env,
      policies: `
  - name: token-needs-two-sre
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }
  - name: everything-else
    decision: deny`,
    });
    approvers = createIdpApproverResolver({
      config: { issuer: idp.issuer, audience: idp.clientId, groupsClaim: 'groups' },
      clock: f.clock,
      logger: silentLogger(),
      actorClaims: ['github_login'],
    });
  });
  after(async () => {
    approvers.close();
    await f.close();
    await idp.close();
    await env.stop();
  });

  it('IdP approvals count once per person; the CI actor (by IdP username) cannot approve', async () => {
    const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
    const { request } = await probe.next('pending');

    // alice is the CI actor; her IdP account's preferred_username is `alice`.
    const alice = await approvers.resolve(bearer(await idp.login('u-alice')));
    await assert.rejects(f.gate.approve(request.id, alice), (err: unknown) => {
      assert.ok(err instanceof PermissionDeniedError);
      assert.match(err.message, /requester cannot approve/);
      return true;
    });
    assert.equal((await f.gate.getRequest(request.id)).status, 'pending');

    // carol signs in twice (two tokens): still one approval.
    await f.gate.approve(request.id, await approvers.resolve(bearer(await idp.login('u-carol'))));
    const again = await f.gate.approve(request.id, await approvers.resolve(bearer(await idp.login('u-carol'))));
    assert.equal(again.status, 'pending');
    assert.equal(again.approvals.length, 1);

    // dave has no groups in the IdP: not allowed.
    const dave = await approvers.resolve(bearer(await idp.login('u-dave')));
    await assert.rejects(f.gate.approve(request.id, dave), PermissionDeniedError);

    const done = await f.gate.approve(request.id, await approvers.resolve(bearer(await idp.login('u-bob'))));
    assert.deepEqual(
      done.approvals.map((a) => [a.subject, a.name, a.trust]),
      [
        ['u-carol', 'carol@acme.test', 'idp'],
        ['u-bob', 'bob@acme.test', 'idp'],
      ],
    );
    const granted = await probe.next('granted');
    assert.ok(granted.grant.credentials.VAULT_TOKEN);
    await f.gate.release(granted.grant.id, granted.grant.releaseToken);
    await probe.done;
  });

  it('an IdP user whose configured actor claim is the CI login cannot approve', async () => {
    const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token', claimed: { ...accessInput().claimed, actor: 'erin-gh' } }));
    const { request } = await probe.next('pending');
    assert.equal(request.context.actor, 'erin-gh');
    const erin = await approvers.resolve(bearer(await idp.login('u-erin')));
    // No email: named by `sub`; her IdP username is only an alias.
    assert.equal(erin.name, 'u-erin');
    await assert.rejects(f.gate.approve(request.id, erin), /requester cannot approve/);
    assert.equal((await f.gate.getRequest(request.id)).status, 'pending');
    probe.controller.abort();
    await probe.done;
  });
});
