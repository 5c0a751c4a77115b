import assert from 'node:assert/strict';
import { open, readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { ApproverIdentity } from '../../../src/model/context.js';
import { ConflictError, InvalidArgumentError, JitgateError, PermissionDeniedError, ResourceExhaustedError, UnavailableError } from '../../../src/common/errors.js';
import { accessInput, LOCAL_CONTEXT, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../../support/gate-fixture.js';
import { startVaultWithDatabase } from '../../../tools/vault-compat/src/start.js';
import { canLogin, roleExists } from '../../../tools/vault-compat/test/fixtures.js';

const REQUIRE_ONE = `
  - name: demo-db-main
    match: { resource: demo-db, repository: acme/api, ref: refs/heads/main }
    require: { approvals: 1, from: [group:sre], expires_after: 10m, escalate: [{ after: 5m, to: [group:oncall] }] }
  - name: token-auto
    match: { resource: [demo-token, demo-strict], repository: acme/api }
    decision: auto-approve
  - name: everything-else
    decision: deny`;

const local = (name: string, groups: string[]): ApproverIdentity => ({ subject: name, name, groups, aliases: [name], trust: 'local' });
const bob = local('bob', ['sre']);
const dave = local('dave', ['sre']);
const alice = local('alice', ['sre']);
const carol = local('carol', []);
const erin = local('erin', ['dba']);
const frank = local('frank', ['oncall']);

async function auditTypes(f: GateFixture): Promise<{ type: string; [k: string]: unknown }[]> {
  const text = await readFile(f.config.audit.file, 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
}

async function tokenIsDead(env: VaultEnv, token: string): Promise<boolean> {
  const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-self`, { headers: { 'X-Vault-Token': token } });
  await res.body?.cancel();
  return res.status === 403;
}

describe('AccessGate', () => {
  let env: VaultEnv;
  before(async () => {
    env = await startVaultWithDatabase();
  });
  after(async () => {
    await env.stop();
  });

  async function withGate(fn: (f: GateFixture) => Promise<void>, policies = REQUIRE_ONE, extraConfig?: string): Promise<void> {
    const f = await startGateFixture({ vaultEnv: env, policies, ...(extraConfig ? { extraConfig } : {}) });
    try {
      await fn(f);
    } finally {
      await f.close();
    }
  }

  it('auto-approves, mints a child token, and revokes it on release', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      const granted = await probe.next('granted');
      const token = granted.grant.credentials.VAULT_TOKEN ?? '';
      assert.ok(token.startsWith('hvs.'));
      assert.equal(await tokenIsDead(env, token), false);
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      await probe.next('released');
      assert.equal(await tokenIsDead(env, token), true);
      assert.equal((await f.gate.getRequest(granted.request.id)).status, 'released');
      const types = (await auditTypes(f)).map((r) => r.type);
      assert.ok(types.indexOf('grant.mint.intent') < types.indexOf('grant.minted'));
      assert.ok(types.indexOf('grant.revoke.intent') < types.indexOf('grant.revoked'));
    }));

  it('waits for an approver, then grants database credentials that die on release', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput());
      const pending = await probe.next('pending');
      assert.deepEqual(pending.request.approvers, ['group:sre']);
      assert.equal(pending.request.approvalsRequired, 1);
      await f.gate.approve(pending.request.id, bob, { comment: 'ok' });
      const granted = await probe.next('granted');
      const { PGUSER: user, PGPASSWORD: password } = granted.grant.credentials;
      assert.ok(user && password);
      assert.equal(await canLogin(env.pg.url, user, password), true);
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      await probe.next('released');
      assert.equal(await canLogin(env.pg.url, user, password), false);
      assert.equal(await roleExists(env.pg.url, user), false);
    }));

  it('refuses self-approval and unlisted approvers; the request stays pending', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');
      await assert.rejects(
        f.gate.approve(request.id, alice),
        (err: unknown) => err instanceof PermissionDeniedError && /own request/.test(err.message) && err.code === 'SELF_APPROVAL',
      );
      await assert.rejects(f.gate.approve(request.id, carol), (err: unknown) => err instanceof PermissionDeniedError && err.code === 'NOT_AN_APPROVER');
      assert.equal((await f.gate.getRequest(request.id)).status, 'pending');
      const rejected = (await auditTypes(f)).filter((r) => r.type === 'approval.rejected');
      assert.equal(rejected.length, 2);
      probe.controller.abort();
      await probe.done;
    }));

  it('names why a request ended: DENIED_BY_APPROVER, ALREADY_DECIDED, EXPIRED, RELEASE_TOKEN_MISMATCH, GRANT_NOT_FOUND', () =>
    withGate(async (f) => {
      const denied = new StreamProbe(f.gate, accessInput());
      const { request } = await denied.next('pending');
      await f.gate.deny(request.id, bob, 'not today');
      const end = await denied.next('denied');
      assert.equal(end.code, 'DENIED_BY_APPROVER');
      assert.equal(end.reason, 'denied by bob (CLI): not today');
      await assert.rejects(f.gate.approve(request.id, dave), (err: unknown) => err instanceof ConflictError && err.code === 'ALREADY_DECIDED');

      const expiring = new StreamProbe(f.gate, accessInput());
      await expiring.next('pending');
      f.clock.advance(11 * 60_000);
      assert.equal((await expiring.next('expired')).code, 'EXPIRED');

      const live = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      const granted = await live.next('granted');
      await assert.rejects(f.gate.release(granted.grant.id, 'x'.repeat(granted.grant.releaseToken.length)), (err: unknown) => err instanceof PermissionDeniedError && err.code === 'RELEASE_TOKEN_MISMATCH');
      await assert.rejects(f.gate.release('grant-nope', 'x'), (err: unknown) => err instanceof JitgateError && err.code === 'GRANT_NOT_FOUND');
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      await live.next('released');
    }));

  it('racing approvals and denials end in one state with at most one mint', () =>
    withGate(
      async (f) => {
        const probe = new StreamProbe(f.gate, accessInput());
        const { request } = await probe.next('pending');
        const results = await Promise.allSettled([
          f.gate.approve(request.id, bob),
          f.gate.approve(request.id, bob),
          f.gate.deny(request.id, dave, 'no'),
          f.gate.approve(request.id, dave),
          f.gate.deny(request.id, bob, 'changed my mind'),
        ]);
        await probe.done.then(() => undefined, () => undefined).catch(() => undefined);
        const final = probe.updates.at(-1);
        assert.ok(final);
        const mints = (await auditTypes(f)).filter((r) => r.type === 'grant.mint.intent').length;
        assert.ok(mints <= 1, `mints: ${mints}`);
        const stored = await f.gate.getRequest(request.id);
        assert.ok(['denied', 'granted', 'released'].includes(stored.status), stored.status);
        // Whatever won, the late deciders were told so and nothing else changed.
        assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof ConflictError));
        if (final.kind === 'granted') await f.gate.release(final.grant.id, final.grant.releaseToken);
      },
      `
  - name: two
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }`,
    ));

  it('counts one person once, and needs every group when every_group is set', () =>
    withGate(
      async (f) => {
        const probe = new StreamProbe(f.gate, accessInput());
        const { request } = await probe.next('pending');
        await f.gate.approve(request.id, bob);
        await f.gate.approve(request.id, bob);
        await f.gate.approve(request.id, dave);
        assert.equal((await f.gate.getRequest(request.id)).status, 'pending', 'two sre approvals but no dba yet');
        await f.gate.approve(request.id, erin);
        const granted = await probe.next('granted');
        assert.equal(granted.request.approvals.length, 3);
        await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      },
      `
  - name: both-groups
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre, group:dba], every_group: true, expires_after: 10m }`,
    ));

  it('counts one person once across channels, whatever identifier each channel uses', () =>
    withGate(
      async (f) => {
        const probe = new StreamProbe(f.gate, accessInput());
        const { request } = await probe.next('pending');
        const bobViaIdp: ApproverIdentity = { subject: '5f2c9e0a-opaque-sub', name: 'bob', groups: ['sre'], aliases: ['bob', 'bob@acme.example'], trust: 'idp' };
        const bobViaSlack: ApproverIdentity = { subject: 'bob', name: 'bob', groups: ['sre'], aliases: ['bob', 'U0BOB'], trust: 'slack' };
        await f.gate.approve(request.id, bobViaIdp);
        const view = await f.gate.approve(request.id, bobViaSlack);
        assert.equal(view.status, 'pending');
        assert.equal(view.approvals.length, 1);
        await f.gate.approve(request.id, dave);
        const granted = await probe.next('granted');
        await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      },
      `
  - name: two
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }`,
    ));

  it('refuses control characters in approvers\' comments and reasons; the request stays pending', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');
      await assert.rejects(f.gate.deny(request.id, bob, 'ok\n\u001b[2K\rreq_zzz  granted'), (err: unknown) => err instanceof InvalidArgumentError && err.field === 'reason');
      await assert.rejects(f.gate.approve(request.id, bob, { comment: 'fine\u001b[31m' }), (err: unknown) => err instanceof InvalidArgumentError && err.field === 'comment');
      assert.equal((await f.gate.getRequest(request.id)).status, 'pending');
      probe.controller.abort();
      await probe.done;
    }));

  it('never hands out a grant whose mint was still at Vault when shutdown began', () =>
    withGate(async (f) => {
      env.vault.faults.latency('database/creds', 300);
      try {
        const probe = new StreamProbe(f.gate, accessInput());
        const { request } = await probe.next('pending');
        void f.gate.approve(request.id, bob);
        // The token exists (its accessor is recorded) and the read under it is held by the fault.
        let accessor: string | null | undefined;
        while (!accessor) {
          await new Promise((r) => setTimeout(r, 5));
          accessor = (await f.store.listGrants(['minting']))[0]?.accessor;
        }
        await f.gate.shutdown();
        await probe.done;
        assert.equal(probe.updates.some((u) => u.kind === 'granted'), false, 'no credentials left the gate');
        assert.equal(probe.updates.at(-1)?.kind, 'denied');
        const res = await fetch(`${env.vault.address}/v1/auth/token/lookup-accessor`, {
          method: 'POST',
          headers: { 'X-Vault-Token': env.vault.rootToken },
          body: JSON.stringify({ accessor }),
        });
        await res.body?.cancel();
        assert.notEqual(res.status, 200, 'the token minted during shutdown is revoked');
      } finally {
        env.vault.faults.clear();
      }
    }));

  it('expires on the monotonic deadline even when the wall clock steps back; a late approval mints nothing', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');
      f.clock.setWall(f.clock.now() - 3_600_000);
      f.clock.advance(10 * 60_000);
      const expired = await probe.next('expired');
      assert.equal(expired.request.status, 'expired');
      await assert.rejects(f.gate.approve(request.id, bob), ConflictError);
      const types = (await auditTypes(f)).map((r) => r.type);
      assert.ok(types.includes('request.expired'));
      assert.ok(types.includes('approval.late'));
      assert.ok(!types.includes('grant.mint.intent'));
    }));

  it('escalates to further groups after the delay', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput());
      const { request } = await probe.next('pending');
      await assert.rejects(f.gate.approve(request.id, frank), PermissionDeniedError);
      f.clock.advance(5 * 60_000);
      assert.deepEqual((await f.gate.getRequest(request.id)).approvers, ['group:sre', 'group:oncall']);
      await f.gate.approve(request.id, frank);
      const granted = await probe.next('granted');
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
    }));

  it('binds an approval to its request: a new commit needs its own', () =>
    withGate(async (f) => {
      const first = new StreamProbe(f.gate, accessInput());
      const a = await first.next('pending');
      await f.gate.approve(a.request.id, bob);
      const granted = await first.next('granted');
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      const second = new StreamProbe(f.gate, accessInput({ claimed: { ...LOCAL_CONTEXT, sha: 'b'.repeat(40) } }));
      const b = await second.next('pending');
      assert.notEqual(b.request.id, a.request.id);
      assert.equal(b.request.approvals.length, 0);
      second.controller.abort();
      await second.done;
      assert.equal((await f.gate.getRequest(b.request.id)).status, 'denied');
    }));

  it('refuses an auto-approved request whose state row cannot be written, before Vault is called', () =>
    withGate(async (f) => {
      const liveAccessors = async (): Promise<string[]> => {
        const res = await fetch(`${env.vault.address}/v1/auth/token/accessors`, { method: 'LIST', headers: { 'X-Vault-Token': env.vault.rootToken } });
        const body = (await res.json()) as { data: { keys: string[] } };
        return body.data.keys;
      };
      const before = await liveAccessors();
      // The request's row is written with the grant's intent on this path: a failing write there
      // must stop the mint exactly as a failing intent does.
      Object.assign(f.store, { insertRequest: () => Promise.reject(new Error('disk I/O error')) });
      const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      const err = await probe.done;
      assert.ok(err instanceof UnavailableError, String(err));
      assert.equal(err.code, 'STATE_UNAVAILABLE');
      assert.match(err.message, /state store unavailable/);
      assert.deepEqual(probe.updates.map((u) => u.kind), []);
      assert.deepEqual((await liveAccessors()).sort(), before.sort(), 'Vault minted nothing');
      assert.deepEqual(await f.store.listGrants(['minting', 'live', 'revoking', 'revoke_failed']), []);
      const types = (await auditTypes(f)).map((r) => r.type);
      assert.ok(types.includes('grant.mint.intent'), 'the intent was recorded');
      assert.ok(!types.includes('grant.token.created') && !types.includes('grant.minted'));
      assert.ok(types.includes('request.denied'));
    }));

  it('denies with UNAVAILABLE when Vault fails during the mint, leaving nothing issued', () =>
    withGate(async (f) => {
      env.vault.faults.fail('database/creds', 503);
      try {
        const probe = new StreamProbe(f.gate, accessInput());
        const { request } = await probe.next('pending');
        await f.gate.approve(request.id, bob);
        const err = await probe.done;
        assert.ok(err instanceof UnavailableError, String(err));
        assert.equal(err.code, 'VAULT_UNAVAILABLE');
        assert.match(err.message, /database\/creds/);
        assert.equal((await f.gate.getRequest(request.id)).status, 'denied');
        const grants = await f.store.listGrants(['minting', 'live', 'revoking', 'revoke_failed']);
        assert.equal(grants.length, 0);
        const created = (await auditTypes(f)).find((r) => r.type === 'grant.token.created');
        assert.ok(created, 'the token existed before the read failed');
      } finally {
        env.vault.faults.clear();
      }
    }));

  it('clamps a TTL above max_ttl, or denies it when the resource says so', () =>
    withGate(async (f) => {
      const clamped = new StreamProbe(f.gate, accessInput({ resource: 'demo-token', ttlMs: 600_000, claimed: LOCAL_CONTEXT }));
      const granted = await clamped.next('granted');
      assert.equal(granted.grant.ttlMs, 60_000);
      await f.gate.release(granted.grant.id, granted.grant.releaseToken);
      const strict = new StreamProbe(f.gate, accessInput({ resource: 'demo-strict', ttlMs: 600_000 }));
      const denied = await strict.next('denied');
      assert.match(denied.reason, /exceeds max_ttl 1m/);
      assert.equal(denied.code, 'TTL_EXCEEDS_MAX');
      await assert.rejects(
        (async () => {
          for await (const update of f.gate.requestAccess(accessInput({ resource: 'nope' }), new AbortController().signal)) {
            assert.fail(`unexpected ${update.kind}`);
          }
        })(),
        (err: unknown) => err instanceof InvalidArgumentError && err.field === 'resource' && err.code === 'UNKNOWN_RESOURCE',
      );
    }));

  it('revokes live grants and ends pending requests as denied (shutdown)', () =>
    withGate(async (f) => {
      const live = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      const granted = await live.next('granted');
      const pending = new StreamProbe(f.gate, accessInput());
      await pending.next('pending');
      await f.gate.shutdown();
      const denied = await pending.next('denied');
      assert.equal(denied.reason, 'shutdown');
      assert.equal(denied.code, 'SHUTDOWN');
      await live.next('released');
      const token = granted.grant.credentials.VAULT_TOKEN ?? '';
      assert.equal(await tokenIsDead(env, token), true);
    }));

  it('revokes grants left live by a dead process at start-up, and audits it', () =>
    withGate(async (f) => {
      const probe = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      const granted = await probe.next('granted');
      const token = granted.grant.credentials.VAULT_TOKEN ?? '';
      // A restart without shutdown: the old gate never revoked.
      await f.restart();
      assert.equal(await tokenIsDead(env, token), true);
      const orphan = (await auditTypes(f)).find((r) => r.type === 'grant.revoked' && r.reason === 'orphaned at start-up');
      assert.ok(orphan);
      assert.equal((await f.store.getGrant(granted.grant.id))?.status, 'revoked');
    }));

  it('grants nothing once an audit write fails (EIO)', async () => {
    let broken = false;
    const f = await startGateFixture({
      vaultEnv: env,
      policies: REQUIRE_ONE,
      openFile: async (path) => {
        const handle = await open(path, 'a', 0o600);
        return {
          write: (buffer, offset, length) =>
            broken ? Promise.reject(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' })) : handle.write(buffer, offset, length),
          sync: () => handle.sync(),
          close: () => handle.close(),
        };
      },
    });
    try {
      broken = true;
      const first = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      assert.ok((await first.done) instanceof UnavailableError);
      assert.equal(f.audit.healthy, false);
      const second = new StreamProbe(f.gate, accessInput({ resource: 'demo-token' }));
      const err = await second.done;
      assert.ok(err instanceof UnavailableError && /audit/.test(err.message));
      assert.equal(err.code, 'AUDIT_UNAVAILABLE');
      assert.equal(first.updates.length + second.updates.length, 0);
      assert.equal((await f.store.listGrants(['minting', 'live'])).length, 0);
    } finally {
      await f.close();
    }
  });

  it('refuses new requests beyond the pending limit', () =>
    withGate(
      async (f) => {
        const probes = [new StreamProbe(f.gate, accessInput()), new StreamProbe(f.gate, accessInput())];
        await Promise.all(probes.map((p) => p.next('pending')));
        const third = new StreamProbe(f.gate, accessInput());
        const refused = await third.done;
        assert.ok(refused instanceof ResourceExhaustedError);
        assert.equal(refused.code, 'TOO_MANY_PENDING');
        for (const p of probes) p.controller.abort();
        await Promise.all(probes.map((p) => p.done));
      },
      REQUIRE_ONE,
      'limits: { max_pending_requests: 2 }',
    ));
});
