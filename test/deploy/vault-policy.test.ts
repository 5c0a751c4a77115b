/**
 * The shipped least-privilege Vault setup (deploy/vault/): setup.sh itself runs against the
 * Vault-compatible server (which parses and enforces the shipped HCL policy), the daemon's Vault
 * broker logs in with the AppRole credentials it wrote and mints through the token role, and the
 * daemon's own token is refused everything beyond its job.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/common/clock.js';
import { silentLogger } from '../../src/common/logger.js';
import { parseConfig } from '../../src/daemon/config/load-config.js';
import type { Config } from '../../src/daemon/config/types.js';
import { createVaultBroker, type VaultBroker } from '../../src/daemon/vault/vault-broker.js';
import { createVaultClient } from '../../src/daemon/vault/vault-client.js';
import type { VaultTestServer } from '../../tools/vault-compat/src/server.js';
import { startVaultWithDatabase, type VaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { call, canLogin, expectStatus, obj, roleExists, str } from '../../tools/vault-compat/test/fixtures.js';

const run = promisify(execFile);
const SETUP = join(import.meta.dirname, '../../deploy/vault/setup.sh');
const POLICY = join(import.meta.dirname, '../../deploy/vault/jitgated-policy.hcl');

let env: VaultWithDatabase;
let vault: VaultTestServer;
let dir = '';
let config: Config;
let broker: VaultBroker;
/** The daemon's own token, logged in exactly as the daemon does (AppRole, the files setup.sh wrote). */
let daemonToken = '';
const KV_VALUE = 'kv-value-never-logged';

async function setup(extraEnv: Record<string, string> = {}): Promise<{ stdout: string; stderr: string }> {
  return run('bash', [SETUP, join(dir, 'creds')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      VAULT_ADDR: vault.address,
      VAULT_TOKEN: vault.rootToken,
      JITGATED_ALLOWED_POLICIES: `jit-app-kv,jit-deploy,${env.policies.join(',')}`,
      JITGATED_MAX_GRANT_TTL: '10m',
      ...extraEnv,
    },
  });
}

async function lookupSelf(token: string): Promise<number> {
  return (await call(vault.address, token, 'GET', 'auth/token/lookup-self')).status;
}

before(async () => {
  env = await startVaultWithDatabase();
  vault = env.vault;
  dir = await mkdtemp(join(tmpdir(), 'jitgate-vault-policy-'));
  const root = vault.rootToken;
  // What a platform team has before running setup.sh: the resources' policies and a secret.
  expectStatus(await call(vault.address, root, 'PUT', 'sys/policies/acl/jit-app-kv', { policy: 'path "secret/data/jit/app" { capabilities = ["read"] }' }), 204);
  expectStatus(await call(vault.address, root, 'PUT', 'sys/policies/acl/jit-deploy', { policy: 'path "secret/data/jit/deploy" { capabilities = ["read"] }' }), 204);
  expectStatus(await call(vault.address, root, 'PUT', 'sys/policies/acl/ops-admin', { policy: 'path "secret/*" { capabilities = ["read", "update", "create"] }' }), 204);
  expectStatus(await call(vault.address, root, 'PUT', 'secret/data/jit/app', { data: { api_key: KV_VALUE } }), 200);

  const first = await setup();
  assert.doesNotMatch(first.stdout + first.stderr, new RegExp(`${vault.rootToken}|hvs\\.`), 'setup.sh printed a token');

  const yaml = `
listen: { socket: ${join(dir, 'jitgated.sock')} }
state: { sqlite: ${join(dir, 'state.db')} }
audit: { file: ${join(dir, 'audit.jsonl')} }
vault:
  address: ${vault.address}
  token_role: jitgated
  auth: { approle: { role_id_file: ${join(dir, 'creds/vault-role-id')}, secret_id_file: ${join(dir, 'creds/vault-secret-id')} } }
  timeout: 2s
identity: { local: { context: true, approvers: true } }
resources:
  app-kv:
    vault: { policies: [jit-app-kv], read: secret/data/jit/app }
    env: { API_KEY: api_key, VAULT_TOKEN: token }
    ttl: 60s
    max_ttl: 120s
  app-db:
    vault: { policies: [${env.policies.join(', ')}], read: database/creds/${env.dbRole} }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
    max_ttl: 120s
  too-much:
    vault: { policies: [ops-admin] }
    env: { VAULT_TOKEN: token }
    ttl: 60s
    max_ttl: 120s
policies:
  - name: deny-all
    match: { environment: nowhere }
    decision: deny
`;
  config = parseConfig(yaml, { source: 'test.yaml', baseDir: dir });
  assert.equal(config.vault.tokenRole, 'jitgated');
  const client = createVaultClient({ address: config.vault.address, timeoutMs: config.vault.timeoutMs });
  broker = createVaultBroker({ client, config: config.vault, clock: systemClock, logger: silentLogger(), backoffMs: 1 });
  await broker.authenticate();

  const roleId = (await readFile(join(dir, 'creds/vault-role-id'), 'utf8')).trim();
  const secretId = (await readFile(join(dir, 'creds/vault-secret-id'), 'utf8')).trim();
  const login = expectStatus(await call(vault.address, null, 'POST', 'auth/approle/login', { role_id: roleId, secret_id: secretId }), 200);
  daemonToken = str(obj(login.auth).client_token);
});

after(async () => {
  await broker.close();
  await env.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('deploy/vault: setup.sh', () => {
  it('applies the shipped HCL as policy jitgated, byte for byte, and the AppRole carries only it', async () => {
    const data = obj(expectStatus(await call(vault.address, vault.rootToken, 'GET', 'sys/policies/acl/jitgated'), 200).data);
    assert.equal(data.policy, await readFile(POLICY, 'utf8'));
    const self = obj(expectStatus(await call(vault.address, daemonToken, 'GET', 'auth/token/lookup-self'), 200).data);
    assert.deepEqual(self.policies, ['default', 'jitgated']);
  });

  it('writes the token role: allowed_policies, orphan=false, renewable=false, token_explicit_max_ttl', async () => {
    const role = obj(expectStatus(await call(vault.address, vault.rootToken, 'GET', 'auth/token/roles/jitgated'), 200).data);
    assert.deepEqual(role.allowed_policies, ['jit-app-kv', 'jit-deploy', ...env.policies].sort());
    assert.equal(role.orphan, false);
    assert.equal(role.renewable, false);
    assert.equal(role.token_explicit_max_ttl, 600);
  });

  it('writes role_id and secret_id files 0600, and a rerun keeps the secret_id (idempotent)', async () => {
    const secretFile = join(dir, 'creds/vault-secret-id');
    assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'creds/vault-role-id'))).mode & 0o777, 0o600);
    const before = await readFile(secretFile, 'utf8');
    const again = await setup();
    assert.match(again.stdout, /kept the existing/);
    assert.equal(await readFile(secretFile, 'utf8'), before);
    assert.doesNotMatch(again.stdout + again.stderr, new RegExp(before.trim()));
  });

  it('fails with a clear line, naming no secret, when Vault refuses', async () => {
    await assert.rejects(setup({ VAULT_TOKEN: 'hvs.not-a-real-admin-token' }), (err: Error & { stderr?: string }) => {
      assert.match(err.stderr ?? '', /^setup\.sh: writing policy jitgated: HTTP 403 permission denied$/m);
      assert.doesNotMatch(err.stderr ?? '', /not-a-real-admin-token/);
      return true;
    });
  });
});

describe('deploy/vault: the daemon under the shipped policy', () => {
  it('mints through the token role (KV secret read with the child token), and release revokes', async () => {
    const resource = config.resources['app-kv'];
    assert.ok(resource);
    const grant = await broker.mint(resource, 60_000, { request: 'r1' });
    assert.equal(grant.credentials.API_KEY, KV_VALUE);
    const child = obj(expectStatus(await call(vault.address, grant.token, 'GET', 'auth/token/lookup-self'), 200).data);
    assert.equal(child.path, 'auth/token/create/jitgated');
    assert.deepEqual(child.policies, ['default', 'jit-app-kv']);
    assert.equal(child.renewable, false);
    await broker.revoke(grant.accessor, grant.leaseIds);
    assert.equal(await lookupSelf(grant.token), 403);
    expectStatus(await call(vault.address, grant.token, 'GET', 'secret/data/jit/app'), 403);
  });

  it('mints a PostgreSQL login under the child token; release revokes the lease (role dropped) and the token', async () => {
    const resource = config.resources['app-db'];
    assert.ok(resource);
    const grant = await broker.mint(resource, 60_000, { request: 'r2' });
    const user = grant.credentials.PGUSER ?? '';
    const password = grant.credentials.PGPASSWORD ?? '';
    assert.equal(grant.leaseIds.length, 1);
    assert.ok(await canLogin(env.pg.url, user, password));
    await broker.revoke(grant.accessor, grant.leaseIds);
    assert.equal(await roleExists(env.pg.url, user), false);
    assert.equal(await canLogin(env.pg.url, user, password), false);
    assert.equal(await lookupSelf(grant.token), 403);
  });

  it('a resource whose policy the token role does not allow is not minted (fails closed)', async () => {
    const resource = config.resources['too-much'];
    assert.ok(resource);
    // Vault refuses the create (400: outside allowed_policies); the daemon denies UNAVAILABLE.
    await assert.rejects(broker.mint(resource, 60_000, {}), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_UNAVAILABLE');
      assert.match(err.message, /auth\/token\/create\/jitgated answered 400/);
      return true;
    });
  });

  it('the daemon token cannot read a secret directly: 403', async () => {
    expectStatus(await call(vault.address, daemonToken, 'GET', 'secret/data/jit/app'), 403);
    expectStatus(await call(vault.address, daemonToken, 'GET', 'secret/data/jit/deploy'), 403);
    expectStatus(await call(vault.address, daemonToken, 'GET', `database/creds/${env.dbRole}`), 403);
  });

  it('the daemon token cannot create a token with a policy outside the allowed list: 403 (400 through the role)', async () => {
    // Plain create, create-orphan, another role, or editing its own role: denied by the ACL.
    for (const path of ['auth/token/create', 'auth/token/create-orphan', 'auth/token/create/other']) {
      expectStatus(await call(vault.address, daemonToken, 'POST', path, { policies: ['ops-admin'] }), 403);
    }
    expectStatus(await call(vault.address, daemonToken, 'POST', 'auth/token/roles/jitgated', { allowed_policies: ['ops-admin'] }), 403);
    expectStatus(await call(vault.address, daemonToken, 'PUT', 'sys/policies/acl/jitgated', { policy: 'path "*" { capabilities = ["sudo"] }' }), 403);
    // Through its own role Vault answers 400 for a policy outside allowed_policies or disallowed.
    for (const policies of [['ops-admin'], ['root'], ['jitgated']]) {
      expectStatus(await call(vault.address, daemonToken, 'POST', 'auth/token/create/jitgated', { policies }), 400);
    }
  });

  it('the daemon token cannot revoke another client\'s token by token, prefix or accessor listing: 403', async () => {
    const other = obj(expectStatus(await call(vault.address, vault.rootToken, 'POST', 'auth/token/create', { policies: ['jit-deploy'], ttl: '300s' }), 200).auth);
    const otherToken = str(other.client_token);
    expectStatus(await call(vault.address, daemonToken, 'POST', 'auth/token/revoke', { token: otherToken }), 403);
    expectStatus(await call(vault.address, daemonToken, 'POST', 'auth/token/revoke-orphan', { token: otherToken }), 403);
    expectStatus(await call(vault.address, daemonToken, 'POST', 'sys/leases/revoke-prefix/auth/token/create', {}), 403);
    expectStatus(await call(vault.address, daemonToken, 'LIST', 'auth/token/accessors'), 403);
    expectStatus(await call(vault.address, daemonToken, 'POST', 'auth/token/lookup', { token: otherToken }), 403);
    assert.equal(await lookupSelf(otherToken), 200);
  });
});
