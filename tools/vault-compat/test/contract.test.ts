/**
 * Contract suite for the Vault HTTP API subset jitgate relies on (BRIEF appendix A), through raw
 * HTTP and through node-vault. With VAULT_ADDR and VAULT_TOKEN set it runs against that Vault
 * (which must reach PostgreSQL at JITGATE_TEST_PG_URL); otherwise against the built-in server.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import vault from 'node-vault';
import pg from 'pg';
import { startPostgres, type TestPostgres } from '../src/postgres.js';
import { startVaultServer, type VaultTestServer } from '../src/server.js';
import { call, canLogin, configureDatabase, enable, expectStatus, obj, roleExists, str, suffix, urlFor } from './fixtures.js';

const external = process.env.VAULT_ADDR && process.env.VAULT_TOKEN ? { address: process.env.VAULT_ADDR, token: process.env.VAULT_TOKEN } : null;

let address = '';
let root = '';
let pgUrl = '';
let server: VaultTestServer | null = null;
let postgres: TestPostgres | null = null;
let jwks: Server | null = null;
let jwksUrl = '';
let signingKey: CryptoKey;
const dbName = `jitgate-${suffix()}`;
const id = suffix();
const policyRo = `jit-ro-${id}`;
const policyCreator = `jit-creator-${id}`;

async function createToken(token: string, body: Record<string, unknown>, path = 'auth/token/create'): Promise<Record<string, unknown>> {
  return obj(expectStatus(await call(address, token, 'POST', path, body), 200).auth);
}

async function creds(token: string, role: string): Promise<{ leaseId: string; username: string; password: string; leaseDuration: number }> {
  const body = expectStatus(await call(address, token, 'GET', `database/creds/${role}`), 200);
  const data = obj(body.data);
  return { leaseId: str(body.lease_id), username: str(data.username), password: str(data.password), leaseDuration: body.lease_duration as number };
}

async function leaseLive(leaseId: string): Promise<boolean> {
  const res = await call(address, root, 'PUT', 'sys/leases/lookup', { lease_id: leaseId });
  if (res.status === 200) return true;
  assert.equal(res.status, 400, res.text);
  return false;
}

before(async () => {
  if (external) {
    address = external.address.replace(/\/$/, '');
    root = external.token;
    const url = process.env.JITGATE_TEST_PG_URL;
    assert.ok(url, 'JITGATE_TEST_PG_URL must name the PostgreSQL the real Vault can reach');
    pgUrl = url;
  } else {
    postgres = await startPostgres();
    pgUrl = postgres.url;
    server = await startVaultServer();
    address = server.address;
    root = server.rootToken;
  }
  await enable(address, root, 'mounts', 'secret', { type: 'kv', options: { version: '2' } });
  await enable(address, root, 'mounts', 'database', { type: 'database' });
  await enable(address, root, 'auth', 'approle', { type: 'approle' });
  await enable(address, root, 'auth', 'jwt', { type: 'jwt' });
  await configureDatabase(address, root, pgUrl, dbName, {
    ro: { defaultTtl: '1h', maxTtl: '10s' },
    rw: { defaultTtl: '1h', maxTtl: '24h' },
  });
  expectStatus(await call(address, root, 'PUT', `sys/policies/acl/${policyRo}`, { policy: 'path "database/creds/ro" {\n  capabilities = ["read"]\n}\n' }), 204);
  expectStatus(
    await call(address, root, 'PUT', `sys/policies/acl/${policyCreator}`, {
      policy: `path "auth/token/create" { capabilities = ["update"] }
path "auth/token/create-orphan" { capabilities = ["update"] }
path "database/creds/+" { capabilities = ["read"] }
path "secret/data/deny/*" { capabilities = ["deny"] }
path "secret/data/*" { capabilities = ["read", "create"] }`,
    }),
    204,
  );
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  signingKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks?.listen(0, '127.0.0.1', resolve));
  const a = jwks.address();
  jwksUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/jwks`;
});

after(async () => {
  if (address && root) {
    await call(address, root, 'PUT', `sys/leases/revoke-prefix/database/creds/`, {}).catch(() => undefined);
    await call(address, root, 'DELETE', `database/config/${dbName}`).catch(() => undefined);
  }
  await server?.close();
  await postgres?.stop();
  await new Promise<void>((resolve) => {
    if (jwks) jwks.close(() => { resolve(); });
    else resolve();
  });
});

describe('envelope and errors', () => {
  it('sys/health answers without a token', async () => {
    const res = await call(address, null, 'GET', 'sys/health');
    const body = expectStatus(res, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(body.initialized, true);
    assert.equal(body.sealed, false);
    assert.equal(body.standby, false);
    assert.equal(typeof body.version, 'string');
    assert.equal(typeof body.cluster_name, 'string');
  });

  it('missing, invalid or revoked tokens get 403 with an errors array', async () => {
    for (const token of [null, 'hvs.not-a-token']) {
      const body = expectStatus(await call(address, token, 'GET', 'auth/token/lookup-self'), 403);
      assert.ok(Array.isArray(body.errors));
      assert.match(JSON.stringify(body.errors), /permission denied/);
    }
  });

  it('an empty read is 404 with an empty errors list', async () => {
    const body = expectStatus(await call(address, root, 'GET', `secret/data/missing-${id}`), 404);
    assert.deepEqual(body.errors, []);
  });

  it('malformed JSON is a 400', async () => {
    const res = await fetch(`${address}/v1/auth/token/create`, { method: 'POST', headers: { 'X-Vault-Token': root }, body: '{nope' });
    assert.equal(res.status, 400);
    assert.ok(Array.isArray(obj(await res.json()).errors));
  });

  it('accepts the token as Authorization: Bearer and ignores unknown JSON fields', async () => {
    const res = await call(address, null, 'POST', 'auth/token/create', { policies: [policyRo], ttl: '60s', no_such_field: true }, { Authorization: `Bearer ${root}` });
    expectStatus(res, 200);
  });

  it('enabling an engine twice answers 400 "path is already in use"', async () => {
    const body = expectStatus(await call(address, root, 'POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } }), 400);
    assert.match(JSON.stringify(body.errors), /path is already in use at secret\//);
  });
});

describe('tokens', () => {
  it('create returns the auth block of appendix A', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '120s', explicit_max_ttl: '300s', renewable: false, meta: { grant: 'g1' }, display_name: 'jit' });
    assert.match(str(auth.client_token), /^hvs\./);
    assert.match(str(auth.accessor), /^[0-9A-Za-z]{24}$/);
    assert.deepEqual(auth.policies, ['default', policyRo].sort());
    assert.deepEqual(auth.token_policies, ['default', policyRo].sort());
    assert.deepEqual(auth.metadata, { grant: 'g1' });
    assert.equal(auth.lease_duration, 120);
    assert.equal(auth.renewable, false);
    assert.equal(auth.entity_id, '');
    assert.equal(auth.token_type, 'service');
    assert.equal(auth.orphan, false);
    assert.equal(auth.num_uses, 0);
  });

  it('lookup-self, lookup and lookup-accessor describe the token', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '120s', explicit_max_ttl: '300s', meta: { a: 'b' } });
    const token = str(auth.client_token);
    const self = obj(expectStatus(await call(address, token, 'GET', 'auth/token/lookup-self'), 200).data);
    for (const key of ['accessor', 'creation_time', 'creation_ttl', 'display_name', 'expire_time', 'explicit_max_ttl', 'id', 'meta', 'num_uses', 'orphan', 'path', 'policies', 'renewable', 'ttl', 'type']) {
      assert.ok(key in self, `lookup-self lacks ${key}`);
    }
    assert.equal(self.id, token);
    assert.equal(self.accessor, auth.accessor);
    assert.equal(self.creation_ttl, 120);
    assert.equal(self.explicit_max_ttl, 300);
    assert.equal(self.path, 'auth/token/create');
    assert.equal(self.type, 'service');
    assert.ok((self.ttl as number) > 0 && (self.ttl as number) <= 120);
    const looked = obj(expectStatus(await call(address, root, 'POST', 'auth/token/lookup', { token }), 200).data);
    assert.equal(looked.accessor, auth.accessor);
    const byAccessor = obj(expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: auth.accessor }), 200).data);
    assert.deepEqual(byAccessor.policies, self.policies);
    assert.equal(byAccessor.id, '');
    expectStatus(await call(address, root, 'POST', 'auth/token/lookup', { token: 'hvs.bogus' }), 403);
    expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: 'x'.repeat(24) }), 400);
  });

  it('child policies must be a subset of the parent\'s', async () => {
    const parent = str((await createToken(root, { policies: [policyCreator], ttl: '60s' })).client_token);
    const body = expectStatus(await call(address, parent, 'POST', 'auth/token/create', { policies: [policyRo] }), 400);
    assert.match(JSON.stringify(body.errors), /child policies must be subset of parent/);
    const child = await createToken(parent, { policies: [policyCreator], ttl: '30s', no_default_policy: true });
    assert.deepEqual(child.policies, [policyCreator]);
  });

  it('revoking a token revokes its leases and non-orphan children; orphans survive', async () => {
    const parent = str((await createToken(root, { policies: [policyCreator], ttl: '300s' })).client_token);
    const child = str((await createToken(parent, { ttl: '300s' })).client_token);
    const grandchild = str((await createToken(child, { ttl: '300s' })).client_token);
    const orphanAuth = await createToken(parent, { ttl: '300s' }, 'auth/token/create-orphan');
    assert.equal(orphanAuth.orphan, true);
    const orphan = str(orphanAuth.client_token);
    const parentLease = await creds(parent, 'ro');
    const childLease = await creds(child, 'ro');
    const orphanLease = await creds(orphan, 'ro');
    assert.equal(await canLogin(pgUrl, childLease.username, childLease.password), true);

    expectStatus(await call(address, root, 'POST', 'auth/token/revoke', { token: parent }), 204);

    for (const dead of [parent, child, grandchild]) expectStatus(await call(address, dead, 'GET', 'auth/token/lookup-self'), 403);
    assert.equal(await leaseLive(parentLease.leaseId), false);
    assert.equal(await leaseLive(childLease.leaseId), false);
    assert.equal(await roleExists(pgUrl, childLease.username), false);
    assert.equal(await canLogin(pgUrl, childLease.username, childLease.password), false);
    expectStatus(await call(address, orphan, 'GET', 'auth/token/lookup-self'), 200);
    assert.equal(await leaseLive(orphanLease.leaseId), true);
    assert.equal(await canLogin(pgUrl, orphanLease.username, orphanLease.password), true);
    expectStatus(await call(address, orphan, 'POST', 'auth/token/revoke-self'), 204);
    expectStatus(await call(address, orphan, 'GET', 'auth/token/lookup-self'), 403);
    assert.equal(await roleExists(pgUrl, orphanLease.username), false);
  });

  it('revoke-accessor revokes; an unknown token revoke is still 204', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '60s' });
    expectStatus(await call(address, root, 'POST', 'auth/token/revoke-accessor', { accessor: auth.accessor }), 204);
    expectStatus(await call(address, str(auth.client_token), 'GET', 'auth/token/lookup-self'), 403);
    const res = await call(address, root, 'POST', 'auth/token/revoke', { token: 'hvs.unknown' });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
  });

  it('LIST auth/token/accessors lists live accessors, needs sudo, and drops a revoked one', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '60s' });
    const keys = (): Promise<string[]> => call(address, root, 'LIST', 'auth/token/accessors').then((res) => obj(expectStatus(res, 200).data).keys as string[]);
    assert.ok((await keys()).includes(str(auth.accessor)));
    expectStatus(await call(address, str(auth.client_token), 'LIST', 'auth/token/accessors'), 403);
    expectStatus(await call(address, root, 'POST', 'auth/token/revoke-accessor', { accessor: auth.accessor }), 204);
    assert.equal((await keys()).includes(str(auth.accessor)), false);
  });

  it('num_uses: the token dies after its last use', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '60s', num_uses: 2 });
    assert.equal(auth.num_uses, 2);
    const token = str(auth.client_token);
    expectStatus(await call(address, token, 'GET', 'auth/token/lookup-self'), 200);
    expectStatus(await call(address, token, 'GET', 'auth/token/lookup-self'), 200);
    expectStatus(await call(address, token, 'GET', 'auth/token/lookup-self'), 403);
  });

  it('explicit_max_ttl caps ttl and renewals', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '1h', explicit_max_ttl: '60s' });
    assert.equal(auth.lease_duration, 60);
    const renewed = obj(expectStatus(await call(address, str(auth.client_token), 'POST', 'auth/token/renew-self', { increment: '2h' }), 200).auth);
    assert.ok((renewed.lease_duration as number) <= 60);
  });

  it('a non-renewable token cannot renew', async () => {
    const auth = await createToken(root, { policies: [policyRo], ttl: '60s', renewable: false });
    expectStatus(await call(address, str(auth.client_token), 'POST', 'auth/token/renew-self', {}), 400);
  });
});

describe('policies', () => {
  it('a token allowed only database/creds/ro gets 403 elsewhere', async () => {
    const token = str((await createToken(root, { policies: [policyRo], ttl: '60s' })).client_token);
    await creds(token, 'ro');
    expectStatus(await call(address, token, 'GET', 'database/creds/rw'), 403);
    expectStatus(await call(address, token, 'GET', 'secret/data/x'), 403);
    expectStatus(await call(address, token, 'POST', 'secret/data/x', { data: { a: 1 } }), 403);
  });

  it('+ segments, * globs and deny are honoured', async () => {
    const token = str((await createToken(root, { policies: [policyCreator], ttl: '60s' })).client_token);
    expectStatus(await call(address, root, 'POST', `secret/data/deny/${id}`, { data: { a: 1 } }), 200);
    expectStatus(await call(address, root, 'POST', `secret/data/ok-${id}`, { data: { a: 1 } }), 200);
    expectStatus(await call(address, token, 'GET', `secret/data/ok-${id}`), 200);
    expectStatus(await call(address, token, 'GET', `secret/data/deny/${id}`), 403);
    await creds(token, 'rw');
  });

  it('policies can be written, read and listed', async () => {
    const name = `jit-tmp-${id}`;
    expectStatus(await call(address, root, 'PUT', `sys/policies/acl/${name}`, { policy: 'path "secret/data/a" { capabilities = ["read"] }' }), 204);
    const data = obj(expectStatus(await call(address, root, 'GET', `sys/policies/acl/${name}`), 200).data);
    assert.equal(data.name, name);
    assert.match(str(data.policy), /secret\/data\/a/);
    const keys = obj(expectStatus(await call(address, root, 'LIST', 'sys/policies/acl'), 200).data).keys;
    assert.ok(Array.isArray(keys) && keys.includes(name));
    expectStatus(await call(address, root, 'PUT', `sys/policies/acl/${name}`, { policy: 'path "x" { capabilities = ["fly"] }' }), 400);
    expectStatus(await call(address, root, 'DELETE', `sys/policies/acl/${name}`), 204);
  });
});

describe('database engine and leases', () => {
  it('creds create a real role with a Vault-style name and lease id', async () => {
    const token = str((await createToken(root, { policies: [policyRo], ttl: '60s' })).client_token);
    const body = expectStatus(await call(address, token, 'GET', 'database/creds/ro'), 200);
    assert.match(str(body.lease_id), /^database\/creds\/ro\/[0-9A-Za-z]{24}$/);
    assert.equal(body.renewable, true);
    assert.ok((body.lease_duration as number) > 0 && (body.lease_duration as number) <= 10);
    const data = obj(body.data);
    assert.match(str(data.username), /^v-token-ro-[0-9A-Za-z]{20}-\d{10}$/);
    assert.ok(str(data.username).length <= 63);
    assert.equal(await roleExists(pgUrl, str(data.username)), true);
    assert.equal(await canLogin(pgUrl, str(data.username), str(data.password)), true);
    const lookup = obj(expectStatus(await call(address, root, 'PUT', 'sys/leases/lookup', { lease_id: body.lease_id }), 200).data);
    for (const key of ['id', 'issue_time', 'expire_time', 'last_renewal', 'renewable', 'ttl']) assert.ok(key in lookup, `lookup lacks ${key}`);
    assert.equal(lookup.id, body.lease_id);
    expectStatus(await call(address, root, 'PUT', 'sys/leases/revoke', { lease_id: body.lease_id }), 204);
    assert.equal(await roleExists(pgUrl, str(data.username)), false);
    assert.equal(await canLogin(pgUrl, str(data.username), str(data.password)), false);
  });

  it('LIST sys/leases/lookup/:prefix lists the lease ids below the prefix until they are revoked', async () => {
    const token = str((await createToken(root, { policies: [policyRo], ttl: '60s' })).client_token);
    const lease = await creds(token, 'ro');
    const suffixOf = lease.leaseId.slice('database/creds/ro/'.length);
    const listed = async (): Promise<string[]> => {
      const res = await call(address, root, 'LIST', 'sys/leases/lookup/database/creds/ro/');
      return res.status === 404 ? [] : (obj(expectStatus(res, 200).data).keys as string[]);
    };
    assert.ok((await listed()).includes(suffixOf));
    // One level up, the role shows as a folder.
    assert.ok((obj(expectStatus(await call(address, root, 'LIST', 'sys/leases/lookup/database/creds/'), 200).data).keys as string[]).includes('ro/'));
    expectStatus(await call(address, root, 'PUT', 'sys/leases/revoke', { lease_id: lease.leaseId }), 204);
    assert.equal((await listed()).includes(suffixOf), false);
  });

  it('unknown leases: revoke is 204, lookup is 400 invalid lease', async () => {
    expectStatus(await call(address, root, 'PUT', 'sys/leases/revoke', { lease_id: 'database/creds/ro/unknown' }), 204);
    const body = expectStatus(await call(address, root, 'PUT', 'sys/leases/lookup', { lease_id: 'database/creds/ro/unknown' }), 400);
    assert.match(JSON.stringify(body.errors), /invalid lease/);
  });

  it('revoking a lease ends an open session of its user', async () => {
    const lease = await creds(root, 'rw');
    const session = new pg.Client({ connectionString: urlFor(pgUrl, lease.username, lease.password) });
    const errors: Error[] = [];
    session.on('error', (err) => errors.push(err));
    await session.connect();
    try {
      await session.query('SELECT 1');
      expectStatus(await call(address, root, 'PUT', 'sys/leases/revoke', { lease_id: lease.leaseId }), 204);
      await assert.rejects(session.query('SELECT 1'));
    } finally {
      await session.end().catch(() => undefined);
    }
    assert.equal(await roleExists(pgUrl, lease.username), false);
  });

  it('async revoke answers 202; revoke-prefix answers 204', async () => {
    const a = await creds(root, 'rw');
    const res = await call(address, root, 'PUT', 'sys/leases/revoke', { lease_id: a.leaseId, sync: false });
    assert.ok(res.status === 202 || res.status === 204, res.text);
    const b = await creds(root, 'rw');
    expectStatus(await call(address, root, 'PUT', 'sys/leases/revoke-prefix/database/creds/rw', {}), 204);
    assert.equal(await leaseLive(b.leaseId), false);
    assert.equal(await roleExists(pgUrl, b.username), false);
  });

  it('lease renewal is capped at max_ttl', async () => {
    const lease = await creds(root, 'ro');
    const body = expectStatus(await call(address, root, 'PUT', 'sys/leases/renew', { lease_id: lease.leaseId, increment: 3600 }), 200);
    assert.equal(body.lease_id, lease.leaseId);
    assert.equal(body.renewable, true);
    assert.ok((body.lease_duration as number) <= 10, `renewed to ${String(body.lease_duration)}`);
  });

  it('a role not in allowed_roles or unknown is refused', async () => {
    expectStatus(await call(address, root, 'GET', `database/creds/nope-${id}`), 400);
  });
});

describe('kv v2', () => {
  it('writes, reads versions and lists', async () => {
    const path = `app-${id}/config`;
    const w = obj(expectStatus(await call(address, root, 'POST', `secret/data/${path}`, { data: { user: 'u', n: 1 } }), 200).data);
    assert.equal(w.version, 1);
    assert.equal(typeof w.created_time, 'string');
    expectStatus(await call(address, root, 'POST', `secret/data/${path}`, { data: { user: 'v' } }), 200);
    const r = obj(expectStatus(await call(address, root, 'GET', `secret/data/${path}`), 200).data);
    assert.deepEqual(r.data, { user: 'v' });
    assert.equal(obj(r.metadata).version, 2);
    const v1 = obj(expectStatus(await call(address, root, 'GET', `secret/data/${path}?version=1`), 200).data);
    assert.deepEqual(v1.data, { user: 'u', n: 1 });
    const list = obj(expectStatus(await call(address, root, 'LIST', `secret/metadata/app-${id}/`), 200).data);
    assert.deepEqual(list.keys, ['config']);
    const viaGet = obj(expectStatus(await call(address, root, 'GET', `secret/metadata/app-${id}/?list=true`), 200).data);
    assert.deepEqual(viaGet.keys, ['config']);
    expectStatus(await call(address, root, 'POST', `secret/data/${path}`, { data: { a: 1 }, options: { cas: 1 } }), 400);
  });
});

describe('response wrapping', () => {
  it('wraps a token create and unwraps it exactly once', async () => {
    const res = await call(address, root, 'POST', 'auth/token/create', { policies: [policyRo], ttl: '60s' }, { 'X-Vault-Wrap-TTL': '60s' });
    const body = expectStatus(res, 200);
    assert.equal(body.auth, null);
    const info = obj(body.wrap_info);
    assert.equal(info.ttl, 60);
    assert.equal(info.creation_path, 'auth/token/create');
    assert.equal(typeof info.creation_time, 'string');
    assert.match(str(info.accessor), /^[0-9A-Za-z]{24}$/);
    const wrappingToken = str(info.token);
    const unwrapped = expectStatus(await call(address, wrappingToken, 'POST', 'sys/wrapping/unwrap'), 200);
    const auth = obj(unwrapped.auth);
    assert.equal(auth.accessor, info.wrapped_accessor);
    expectStatus(await call(address, str(auth.client_token), 'GET', 'auth/token/lookup-self'), 200);
    const again = await call(address, wrappingToken, 'POST', 'sys/wrapping/unwrap');
    assert.ok(again.status === 400 || again.status === 403, again.text);
  });

  it('unwraps a wrapped secret read with the token in the body', async () => {
    expectStatus(await call(address, root, 'POST', `secret/data/wrapped-${id}`, { data: { k: 'v' } }), 200);
    const info = obj(expectStatus(await call(address, root, 'GET', `secret/data/wrapped-${id}`, undefined, { 'X-Vault-Wrap-TTL': '30' }), 200).wrap_info);
    const out = expectStatus(await call(address, root, 'POST', 'sys/wrapping/unwrap', { token: info.token }), 200);
    assert.deepEqual(obj(out.data).data, { k: 'v' });
    expectStatus(await call(address, root, 'POST', 'sys/wrapping/unwrap', { token: info.token }), 400);
  });
});

describe('the fleet plane flow (wrap, unwrap once, revoke-self)', () => {
  it('sys/wrapping/wrap holds nested data for one unwrap by the wrapping token itself', async () => {
    const creator = str((await createToken(root, { policies: [policyCreator], ttl: '300s' })).client_token);
    const bundle = { kind: 'jitgate-grant/1', token: 'hvs.placeholder', lease_ids: ['database/creds/ro/x'], credentials: { PGUSER: 'u' }, ttl_ms: 60000 };
    // The creator's default policy allows sys/wrapping/wrap.
    const info = obj(expectStatus(await call(address, creator, 'POST', 'sys/wrapping/wrap', bundle, { 'X-Vault-Wrap-TTL': '45' }), 200).wrap_info);
    assert.equal(info.ttl, 45);
    assert.equal(info.creation_path, 'sys/wrapping/wrap');
    const looked = obj(expectStatus(await call(address, root, 'POST', 'sys/wrapping/lookup', { token: info.token }), 200).data);
    assert.equal(looked.creation_ttl, 45);
    assert.equal(looked.creation_path, 'sys/wrapping/wrap');
    const out = expectStatus(await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap'), 200);
    assert.deepEqual(out.data, bundle);
    const again = await call(address, str(info.token), 'POST', 'sys/wrapping/unwrap');
    assert.ok(again.status === 400 || again.status === 403, again.text);
    expectStatus(await call(address, root, 'POST', 'sys/wrapping/unwrap', { token: info.token }), 400);
  });

  it('revoke-self as a child token revokes it, its children and their database leases; the parent lives', async () => {
    const parent = str((await createToken(root, { policies: [policyCreator], ttl: '300s' })).client_token);
    const childAuth = await createToken(parent, { policies: [policyCreator], ttl: '300s' });
    const child = str(childAuth.client_token);
    const grandchild = str((await createToken(child, { ttl: '300s' })).client_token);
    const childLease = await creds(child, 'ro');
    const grandLease = await creds(grandchild, 'ro');
    const parentLease = await creds(parent, 'ro');
    expectStatus(await call(address, child, 'POST', 'auth/token/revoke-self'), 204);
    for (const dead of [child, grandchild]) expectStatus(await call(address, dead, 'GET', 'auth/token/lookup-self'), 403);
    expectStatus(await call(address, root, 'POST', 'auth/token/lookup-accessor', { accessor: childAuth.accessor }), 400);
    assert.equal(await leaseLive(childLease.leaseId), false);
    assert.equal(await leaseLive(grandLease.leaseId), false);
    assert.equal(await roleExists(pgUrl, childLease.username), false);
    assert.equal(await canLogin(pgUrl, childLease.username, childLease.password), false);
    expectStatus(await call(address, parent, 'GET', 'auth/token/lookup-self'), 200);
    assert.equal(await canLogin(pgUrl, parentLease.username, parentLease.password), true);
    expectStatus(await call(address, root, 'POST', 'auth/token/revoke', { token: parent }), 204);
  });
});

describe('auth methods', () => {
  it('approle: role, role-id, secret-id, login', async () => {
    const role = `jit-${id}`;
    expectStatus(await call(address, root, 'POST', `auth/approle/role/${role}`, { token_policies: [policyRo], token_ttl: '60s', token_max_ttl: '120s', secret_id_ttl: '10m' }), 204);
    const roleId = str(obj(expectStatus(await call(address, root, 'GET', `auth/approle/role/${role}/role-id`), 200).data).role_id);
    const secret = obj(expectStatus(await call(address, root, 'POST', `auth/approle/role/${role}/secret-id`, {}), 200).data);
    const auth = obj(expectStatus(await call(address, null, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: secret.secret_id }), 200).auth);
    assert.deepEqual(auth.policies, ['default', policyRo].sort());
    assert.equal(auth.lease_duration, 60);
    assert.equal(auth.orphan, true);
    assert.deepEqual(auth.metadata, { role_name: role });
    await creds(str(auth.client_token), 'ro');
    expectStatus(await call(address, null, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: 'wrong' }), 400);
  });

  it('jwt: login verified against a JWKS with bound audiences and claims', async () => {
    const role = `ci-${id}`;
    const issuer = 'https://ci.example.test';
    expectStatus(await call(address, root, 'POST', 'auth/jwt/config', { jwks_url: jwksUrl, bound_issuer: issuer }), 204);
    expectStatus(
      await call(address, root, 'POST', `auth/jwt/role/${role}`, {
        role_type: 'jwt',
        bound_audiences: ['jitgate'],
        bound_claims: { repository: 'acme/api' },
        user_claim: 'sub',
        token_policies: [policyRo],
        token_ttl: '60s',
      }),
      204,
    );
    const sign = (claims: Record<string, unknown>, audience = 'jitgate'): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience(audience).setSubject('repo:acme/api').setIssuedAt().setExpirationTime('5m').sign(signingKey);
    const auth = obj(expectStatus(await call(address, null, 'POST', 'auth/jwt/login', { role, jwt: await sign({ repository: 'acme/api' }) }), 200).auth);
    assert.deepEqual(auth.policies, ['default', policyRo].sort());
    assert.equal(auth.lease_duration, 60);
    expectStatus(await call(address, null, 'POST', 'auth/jwt/login', { role, jwt: await sign({ repository: 'acme/other' }) }), 400);
    expectStatus(await call(address, null, 'POST', 'auth/jwt/login', { role, jwt: await sign({ repository: 'acme/api' }, 'someone-else') }), 400);
  });
});

describe('node-vault 0.12', () => {
  it('drives the same endpoints', async () => {
    const client = vault({ apiVersion: 'v1', endpoint: address, token: root });
    const health = (await client.health()) as Record<string, unknown>;
    assert.equal(health.sealed, false);
    const created = (await client.write('auth/token/create', { policies: [policyCreator], ttl: '60s' })) as Record<string, unknown>;
    const childToken = str(obj(created.auth).client_token);
    assert.equal(client.token, root);
    const child = vault({ apiVersion: 'v1', endpoint: address, token: childToken });
    const self = (await child.tokenLookupSelf()) as Record<string, unknown>;
    assert.equal(obj(self.data).id, childToken);
    const lease = (await child.read('database/creds/ro')) as Record<string, unknown>;
    assert.match(str(lease.lease_id), /^database\/creds\/ro\//);
    await client.write(`secret/data/nv-${id}/a`, { data: { x: '1' } });
    const read = (await client.read(`secret/data/nv-${id}/a`)) as Record<string, unknown>;
    assert.deepEqual(obj(obj(read.data).data), { x: '1' });
    const listed = (await client.list(`secret/metadata/nv-${id}`)) as Record<string, unknown>;
    assert.deepEqual(obj(listed.data).keys, ['a']);
    await client.write('sys/leases/revoke', { lease_id: lease.lease_id });
    await assert.rejects(child.read('sys/policies/acl/default'), (err: unknown) => {
      assert.equal((err as { response?: { statusCode?: number } }).response?.statusCode, 403);
      return true;
    });
    await assert.rejects(client.read(`secret/data/none-${id}`), (err: unknown) => {
      assert.equal((err as { response?: { statusCode?: number } }).response?.statusCode, 404);
      return true;
    });
    await client.write('auth/token/revoke', { token: childToken });
    await assert.rejects(child.tokenLookupSelf());
  });
});
