/**
 * Token roles (auth/token/roles/:name, auth/token/create/:name) and the ACL rules around the
 * token and lease endpoints, as Vault's token auth API documents them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startVaultServer, type VaultTestServer } from '../src/server.js';
import { call, expectStatus, obj, str } from './fixtures.js';

let server: VaultTestServer;
let address = '';
let root = '';

async function put(path: string, body: unknown, token = root): Promise<Record<string, unknown>> {
  return expectStatus(await call(address, token, 'POST', path, body), 204);
}

async function token(policies: string[], extra: Record<string, unknown> = {}, via = root, path = 'auth/token/create'): Promise<Record<string, unknown>> {
  return obj(expectStatus(await call(address, via, 'POST', path, { policies, ttl: '300s', ...extra }), 200).auth);
}

async function lookupSelf(t: string): Promise<Record<string, unknown> | null> {
  const res = await call(address, t, 'GET', 'auth/token/lookup-self');
  if (res.status === 403) return null;
  return obj(expectStatus(res, 200).data);
}

/** A token holding only `policy` (plus `default`), as an AppRole login would give a broker. */
let broker = '';

before(async () => {
  server = await startVaultServer();
  address = server.address;
  root = server.rootToken;
  await put('sys/policies/acl/app-a', { policy: 'path "secret/data/a" { capabilities = ["read"] }' });
  await put('sys/policies/acl/app-b', { policy: 'path "secret/data/b" { capabilities = ["read"] }' });
  await put('sys/policies/acl/broker', {
    policy: ['path "auth/token/create/grants" { capabilities = ["update"] }', 'path "auth/token/create/open" { capabilities = ["update"] }'].join('\n'),
  });
  await put('auth/token/roles/grants', {
    allowed_policies: 'app-a, App-B',
    disallowed_policies: ['broker'],
    orphan: false,
    renewable: false,
    token_explicit_max_ttl: '60s',
  });
  await put('auth/token/roles/open', { orphan: true });
  broker = str((await token(['broker'])).client_token);
});

after(async () => {
  await server.close();
});

describe('token roles', () => {
  it('a role reads back with its settings, and lists', async () => {
    const data = obj(expectStatus(await call(address, root, 'GET', 'auth/token/roles/grants'), 200).data);
    assert.deepEqual(data.allowed_policies, ['app-a', 'app-b']);
    assert.deepEqual(data.disallowed_policies, ['broker']);
    assert.equal(data.orphan, false);
    assert.equal(data.renewable, false);
    assert.equal(data.token_explicit_max_ttl, 60);
    assert.equal(data.name, 'grants');
    const keys = obj(expectStatus(await call(address, root, 'LIST', 'auth/token/roles'), 200).data).keys;
    assert.deepEqual(keys, ['grants', 'open']);
    expectStatus(await call(address, root, 'GET', 'auth/token/roles/nope'), 404);
  });

  it('a rewrite keeps the fields it does not name', async () => {
    await put('auth/token/roles/grants', { renewable: false });
    const data = obj(expectStatus(await call(address, root, 'GET', 'auth/token/roles/grants'), 200).data);
    assert.deepEqual(data.allowed_policies, ['app-a', 'app-b']);
    assert.equal(data.token_explicit_max_ttl, 60);
  });

  it('creates a child with allowed policies the caller does not hold, default added, path naming the role', async () => {
    const auth = await token(['app-a'], {}, broker, 'auth/token/create/grants');
    assert.deepEqual(auth.policies, ['app-a', 'default']);
    assert.equal(auth.orphan, false);
    const child = str(auth.client_token);
    const self = obj(await lookupSelf(child));
    assert.equal(self.path, 'auth/token/create/grants');
    // The child can do what app-a allows; the broker itself cannot.
    expectStatus(await call(address, child, 'GET', 'secret/data/a'), 404);
    expectStatus(await call(address, broker, 'GET', 'secret/data/a'), 403);
  });

  it('no policies asked for: the role\'s allowed policies', async () => {
    const auth = await token([], {}, broker, 'auth/token/create/grants');
    assert.deepEqual(auth.policies, ['app-a', 'app-b', 'default']);
  });

  it('a policy outside allowed_policies, or a disallowed one, is refused with 400', async () => {
    const outside = expectStatus(await call(address, broker, 'POST', 'auth/token/create/grants', { policies: ['root-ish'] }), 400);
    assert.match(JSON.stringify(outside.errors), /must be subset of the role's allowed policies/);
    const own = expectStatus(await call(address, broker, 'POST', 'auth/token/create/grants', { policies: ['app-a', 'broker'] }), 400);
    assert.match(JSON.stringify(own.errors), /must be subset|disallowed/);
    expectStatus(await call(address, broker, 'POST', 'auth/token/create/grants', { policies: ['root'] }), 400);
  });

  it('disallowed_policies applies even to policies the role would otherwise allow', async () => {
    await put('auth/token/roles/strict', { allowed_policies: ['app-a', 'app-b'], disallowed_policies: ['app-b'] });
    const body = expectStatus(await call(address, root, 'POST', 'auth/token/create/strict', { policies: ['app-b'] }), 400);
    assert.match(JSON.stringify(body.errors), /token policy \\"app-b\\" is disallowed by this role/);
    await put('auth/token/roles/nodefault', { allowed_policies: ['app-a'], disallowed_policies: ['default'] });
    assert.deepEqual((await token(['app-a'], {}, root, 'auth/token/create/nodefault')).policies, ['app-a']);
  });

  it('token_explicit_max_ttl caps the token; renewable=false wins over the request', async () => {
    const auth = await token(['app-a'], { ttl: '2h', explicit_max_ttl: '2h', renewable: true }, broker, 'auth/token/create/grants');
    assert.equal(auth.lease_duration, 60);
    assert.equal(auth.renewable, false);
    const self = obj(await lookupSelf(str(auth.client_token)));
    assert.equal(self.explicit_max_ttl, 60);
    // A shorter request stays as asked.
    const short = await token(['app-a'], { ttl: '20s', explicit_max_ttl: '20s' }, broker, 'auth/token/create/grants');
    assert.equal(short.lease_duration, 20);
  });

  it('orphan=false ties the child to the caller (its revocation revokes the child); orphan=true does not', async () => {
    const parent = str((await token(['broker'])).client_token);
    const child = str((await token(['app-a'], {}, parent, 'auth/token/create/grants')).client_token);
    // no_parent is ignored with a role: the role decides.
    const stillChild = str((await token(['app-a'], { no_parent: true }, parent, 'auth/token/create/grants')).client_token);
    const orphanAuth = await token([], {}, parent, 'auth/token/create/open');
    assert.equal(orphanAuth.orphan, true);
    expectStatus(await call(address, root, 'POST', 'auth/token/revoke', { token: parent }), 204);
    assert.equal(await lookupSelf(child), null);
    assert.equal(await lookupSelf(stillChild), null);
    assert.notEqual(await lookupSelf(str(orphanAuth.client_token)), null);
  });

  it('without allowed_policies the request must be a subset of the caller\'s policies', async () => {
    const body = expectStatus(await call(address, broker, 'POST', 'auth/token/create/open', { policies: ['app-a'] }), 400);
    assert.match(JSON.stringify(body.errors), /subset of parent/);
  });

  it('the caller needs update on auth/token/create/<role>: another role, or plain create, is 403', async () => {
    await put('auth/token/roles/other', { allowed_policies: ['app-a'] });
    expectStatus(await call(address, broker, 'POST', 'auth/token/create/other', { policies: ['app-a'] }), 403);
    expectStatus(await call(address, broker, 'POST', 'auth/token/create', { policies: ['app-a'] }), 403);
    expectStatus(await call(address, broker, 'POST', 'auth/token/create-orphan', { policies: ['app-a'] }), 403);
    expectStatus(await call(address, broker, 'POST', 'auth/token/roles/grants', { allowed_policies: ['root'] }), 403);
    expectStatus(await call(address, broker, 'GET', 'auth/token/roles/grants'), 403);
  });

  it('an unknown role is 400; a role write needs create when new and update when it exists', async () => {
    await put('sys/policies/acl/role-editor', { policy: 'path "auth/token/roles/*" { capabilities = ["update"] }' });
    const editor = str((await token(['role-editor'])).client_token);
    expectStatus(await call(address, root, 'POST', 'auth/token/create/missing', {}), 400);
    expectStatus(await call(address, editor, 'POST', 'auth/token/roles/brand-new', { orphan: false }), 403);
    expectStatus(await call(address, editor, 'POST', 'auth/token/roles/open', { orphan: true }), 204);
  });
});

describe('token and lease revocation rules', () => {
  it('revoke-accessor and sys/leases/revoke need update on their paths (403 without)', async () => {
    const victim = await token(['app-a']);
    expectStatus(await call(address, broker, 'POST', 'auth/token/revoke-accessor', { accessor: victim.accessor }), 403);
    expectStatus(await call(address, broker, 'POST', 'sys/leases/revoke', { lease_id: 'database/creds/x/abc' }), 403);
    expectStatus(await call(address, broker, 'POST', 'auth/token/revoke', { token: victim.client_token }), 403);
    expectStatus(await call(address, broker, 'POST', 'sys/leases/revoke-prefix/auth/token/create/grants', {}), 403);
    expectStatus(await call(address, broker, 'LIST', 'auth/token/accessors'), 403);
    assert.notEqual(await lookupSelf(str(victim.client_token)), null);
  });

  it('like Vault, revoke-accessor checks the path only, not who created the token', async () => {
    await put('sys/policies/acl/revoker', { policy: 'path "auth/token/revoke-accessor" { capabilities = ["update"] }' });
    const revoker = str((await token(['revoker'])).client_token);
    const unrelated = await token(['app-a']);
    expectStatus(await call(address, revoker, 'POST', 'auth/token/revoke-accessor', { accessor: unrelated.accessor }), 204);
    assert.equal(await lookupSelf(str(unrelated.client_token)), null);
  });
});
