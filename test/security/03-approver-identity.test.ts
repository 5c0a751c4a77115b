import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { stringify } from 'yaml';
import { IdentityError, PermissionDeniedError } from '../../src/common/errors.js';
import { silentLogger } from '../../src/common/logger.js';
import { checkConfigText } from '../../src/daemon/config/check-config.js';
import type { ApproverIdpConfig } from '../../src/daemon/config/types.js';
import { createIdpApproverResolver } from '../../src/daemon/identity/idp-approver-resolver.js';
import type { ApproverIdentity } from '../../src/model/context.js';
import { accessInput, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startIdp, type IdpUser, type TestIdp } from '../support/idp.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

// gate-fixture's static groups put `bob` in `sre`; the CI actor is `alice`.
const USERS: IdpUser[] = [
  // The real bob: the IdP gave him the account id `bob` and verified his address.
  { sub: 'bob', email: 'bob@acme.test', groups: [], extra: { employee_login: 'bob' } },
  // Mallory edits her own profile: username `bob`, and an address she never verified.
  { sub: 'u-mallory-1', preferredUsername: 'bob', email: 'bob@acme.test', emailVerified: false, extra: { employee_login: 'mallory' } },
  { sub: 'u-mallory-2', email: 'bob', emailVerified: false, extra: { nickname: 'bob' } },
  // Mallory again, with no guaranteed claim at all.
  { sub: 'u-mallory-3', preferredUsername: 'bob' },
];

const POLICIES = `
  - name: token-needs-bob
    match: { resource: demo-token, repository: acme/api }
    require: { approvals: 1, from: ["user:bob"], expires_after: 10m }
  - name: db-needs-sre
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: ["group:sre"], expires_after: 10m }
  - name: strict-needs-bobs-address
    match: { resource: demo-strict, repository: acme/api }
    require: { approvals: 1, from: ["user:bob@acme.test"], expires_after: 10m }
  - name: everything-else
    decision: deny`;

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe('security 3: approvers are iss+sub (or a guaranteed claim), never a name they chose', () => {
  let env: VaultEnv;
  let idp: TestIdp;
  let f: GateFixture;
  const closers: { close(): void }[] = [];

  before(async () => {
    env = await startVaultWithDatabase();
    idp = await startIdp({ users: USERS });
    f = await startGateFixture({ vaultEnv: env, policies: POLICIES });
  });
  after(async () => {
    for (const c of closers) c.close();
    await f.close();
    await idp.close();
    await env.stop();
  });

  function resolver(overrides: Partial<ApproverIdpConfig> = {}) {
    const config: ApproverIdpConfig = { issuer: idp.issuer, audience: idp.clientId, groupsClaim: 'groups', ...overrides };
    const r = createIdpApproverResolver({ config, groups: f.config.groups, clock: f.clock, logger: silentLogger() });
    closers.push(r);
    return r;
  }

  async function signIn(user: string, overrides: Partial<ApproverIdpConfig> = {}): Promise<ApproverIdentity> {
    return resolver(overrides).resolve(bearer(await idp.login(user)));
  }

  async function refusedAt(resource: string, who: ApproverIdentity): Promise<void> {
    const probe = new StreamProbe(f.gate, accessInput({ resource }));
    const { request } = await probe.next('pending');
    await assert.rejects(f.gate.approve(request.id, who), (err: unknown) => {
      assert.ok(err instanceof PermissionDeniedError, String(err));
      assert.match(err.message, /is not allowed to approve this request/);
      return true;
    });
    assert.equal((await f.gate.getRequest(request.id)).status, 'pending');
    probe.controller.abort();
    await probe.done;
  }

  async function grantedAt(resource: string, who: ApproverIdentity): Promise<void> {
    const probe = new StreamProbe(f.gate, accessInput({ resource }));
    const { request } = await probe.next('pending');
    const view = await f.gate.approve(request.id, who);
    assert.deepEqual(
      view.approvals.map((a) => [a.subject, a.name]),
      [[who.subject, who.name]],
    );
    const granted = await probe.next('granted');
    await f.gate.release(granted.grant.id, granted.grant.releaseToken);
    await probe.done;
  }

  it('the token really carries the self-chosen names (the attack is what it claims to be)', async () => {
    const claims = decodeJwt(await idp.login('u-mallory-1'));
    assert.equal(claims.preferred_username, 'bob');
    assert.equal(claims.email, 'bob@acme.test');
    assert.equal(claims.email_verified, false);
  });

  it('a username or unverified email of "bob" neither names the approver bob nor puts them in bob\'s static groups', async () => {
    for (const user of ['u-mallory-1', 'u-mallory-2', 'u-mallory-3']) {
      const who = await signIn(user);
      assert.equal(who.subject, user);
      assert.equal(who.name, user, `${user} is named by sub`);
      assert.deepEqual(who.groups, [], `${user} gets no static group`);
      // The chosen names stay aliases: they can only ever refuse self-approval.
      assert.ok(who.aliases.includes('bob'), user);
    }
  });

  it('such a user approves neither as user:bob, nor as user:bob@acme.test, nor through bob\'s static group', async () => {
    const mallory = await signIn('u-mallory-1');
    await refusedAt('demo-token', mallory);
    await refusedAt('demo-strict', mallory);
    await refusedAt('demo-db', mallory);
    await refusedAt('demo-token', await signIn('u-mallory-2'));
    await refusedAt('demo-db', await signIn('u-mallory-3'));
  });

  it('the real bob approves by sub (user:bob, static group) and by his verified address', async () => {
    const bob = await signIn('bob');
    assert.equal(bob.subject, 'bob');
    assert.equal(bob.name, 'bob@acme.test');
    assert.deepEqual(bob.groups, ['sre']);
    await grantedAt('demo-token', bob);
    await grantedAt('demo-db', bob);
    await grantedAt('demo-strict', bob);
  });

  it('username_claim names approvers by a claim the IdP guarantees, and a token without it is refused', async () => {
    const rules = { usernameClaim: 'employee_login' };
    const bob = await signIn('bob', rules);
    assert.equal(bob.name, 'bob');
    const mallory = await signIn('u-mallory-1', rules);
    assert.equal(mallory.name, 'mallory');
    await refusedAt('demo-token', mallory);
    await assert.rejects(signIn('u-mallory-3', rules), (err: unknown) => {
      assert.ok(err instanceof IdentityError, String(err));
      assert.match(err.message, /lacks claim "employee_login", which identity\.approvers\.username_claim names/);
      return true;
    });
    // `email` as the claim still needs email_verified: true.
    assert.equal((await signIn('bob', { usernameClaim: 'email' })).name, 'bob@acme.test');
    await assert.rejects(signIn('u-mallory-1', { usernameClaim: 'email' }), /lacks a verified "email"/);
  });

  it('check-config refuses a username_claim users edit themselves, naming the key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-sec03-'));
    try {
      await writeFile(join(dir, 'vault-token'), 'not-a-real-token', { mode: 0o600 });
      const text = (claim: string): string =>
        stringify({
          state: { sqlite: ':memory:' },
          audit: { file: join(dir, 'audit.jsonl') },
          vault: { address: 'http://127.0.0.1:1', auth: { token_file: join(dir, 'vault-token') } },
          identity: { approvers: { issuer: 'https://idp.example.com', audience: 'jitgate', username_claim: claim } },
          resources: { db: { vault: { policies: ['p'] }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' } },
          policies: [{ name: 'all', decision: 'deny' }],
        });
      for (const claim of ['nickname', 'name', 'given_name']) {
        const { problems, config } = await checkConfigText(text(claim), { source: 'test.yaml', baseDir: dir });
        assert.equal(config, undefined, claim);
        const problem = problems.find((p) => p.path === 'identity.approvers.username_claim');
        assert.match(problem?.message ?? JSON.stringify(problems), /display name users edit themselves/, claim);
      }
      const ok = await checkConfigText(text('employee_login'), { source: 'test.yaml', baseDir: dir });
      assert.deepEqual(ok.problems, []);
      assert.equal(ok.config?.identity.approvers?.usernameClaim, 'employee_login');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
