import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { UnavailableError } from '../../../src/common/errors.js';
import { VaultHttpError, createVaultClient, type VaultClient } from '../../../src/daemon/vault/vault-client.js';
import { startVaultServer } from '../../../tools/vault-compat/src/server.js';

type Server = Awaited<ReturnType<typeof startVaultServer>>;

let vault: Server;
const clients: VaultClient[] = [];

before(async () => {
  // A manual clock keeps the server's TTL arithmetic exact: nothing here depends on time passing.
  vault = await startVaultServer({ clock: new ManualClock() });
});

afterEach(() => {
  vault.faults.clear();
  for (const c of clients.splice(0)) c.close();
});

after(async () => {
  await vault.close();
});

function client(options: { address?: string; timeoutMs?: number; token?: string } = {}): VaultClient {
  const c = createVaultClient({
    address: options.address ?? vault.address,
    timeoutMs: options.timeoutMs ?? 5000,
    token: options.token ?? vault.rootToken,
  });
  clients.push(c);
  return c;
}

const CHILD = { policies: ['default'], ttl: '30s', explicitMaxTtl: '30s', renewable: false, meta: { grant_id: 'g' }, displayName: 'jitgate-test' } as const;

async function rejectsVault(promise: Promise<unknown>): Promise<VaultHttpError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof VaultHttpError, `expected VaultHttpError, got ${String(err)}`);
    assert.ok(err instanceof UnavailableError);
    assert.equal(err.code, 'ERR_UNAVAILABLE');
    return err;
  }
  assert.fail('expected a rejection');
}

describe('vault client', () => {
  it('reports health and seal status', async () => {
    const c = client();
    assert.deepEqual(await c.health(), { initialized: true, sealed: false });
    vault.seal();
    try {
      assert.deepEqual(await c.health(), { initialized: true, sealed: true });
    } finally {
      vault.unseal();
    }
  });

  it('with a role, the child token is created through auth/token/create/<role>; an unknown role is a 400', async () => {
    const c = client();
    const admin = await fetch(`${vault.address}/v1/auth/token/roles/client-test`, {
      method: 'POST',
      headers: { 'X-Vault-Token': vault.rootToken, 'Content-Type': 'application/json' },
      body: JSON.stringify({ allowed_policies: ['default'], token_explicit_max_ttl: '20s' }),
    });
    assert.equal(admin.status, 204);
    const child = await c.createChildToken({ ...CHILD, role: 'client-test' });
    const asChild = await c.read('auth/token/lookup-self', child.token);
    assert.equal(asChild.data.path, 'auth/token/create/client-test');
    // The role's explicit max (20s) caps the requested 30s.
    assert.equal(child.leaseDurationS, 20);
    const err = await rejectsVault(c.createChildToken({ ...CHILD, role: 'no-such-role' }));
    assert.equal(err.status, 400);
    assert.match(err.message, /auth\/token\/create\/no-such-role answered 400/);
  });

  it('creating a child token keeps the client on its own token; read uses the given token', async () => {
    const c = client();
    const child = await c.createChildToken(CHILD);
    assert.notEqual(child.token, vault.rootToken);
    assert.ok(child.accessor.length > 0);
    assert.equal(child.leaseDurationS, 30);
    // Still the root token: lookup-self through the client is not the child.
    const self = await c.read('auth/token/lookup-self', vault.rootToken);
    assert.notEqual(self.data.accessor, child.accessor);
    const asChild = await c.read('auth/token/lookup-self', child.token);
    assert.equal(asChild.data.accessor, child.accessor);
    assert.equal(asChild.leaseId, null);
    assert.deepEqual(await c.lookupSelf(), { ttlS: 0, renewable: false });

    const looked = await c.lookupAccessor(child.accessor);
    assert.deepEqual(looked, { ttlS: 30 });
    await c.revokeAccessor(child.accessor);
    assert.equal(await c.lookupAccessor(child.accessor), null);
    // Already gone is not an error.
    await c.revokeAccessor(child.accessor);
    await c.revokeLease('database/creds/none/unknown');
  });

  it('errors carry path and status, never the token, not even in their cause', async () => {
    const c = client();
    const child = await c.createChildToken(CHILD);
    await c.revokeAccessor(child.accessor);
    const err = await rejectsVault(c.read('auth/token/lookup-self', child.token));
    assert.equal(err.status, 403);
    assert.equal(err.message, 'vault: auth/token/lookup-self answered 403');
    assert.equal(err.retryable, false);
    const everything = JSON.stringify(err, Object.getOwnPropertyNames(err)) + String(err.stack) + JSON.stringify(err.cause, Object.getOwnPropertyNames(err.cause));
    assert.ok(!everything.includes(child.token));
    assert.ok(!everything.includes(vault.rootToken));
  });

  it('a 5xx is retryable', async () => {
    const c = client();
    vault.faults.fail('auth/token/create', 502, { times: 1 });
    const err = await rejectsVault(c.createChildToken(CHILD));
    assert.equal(err.status, 502);
    assert.equal(err.retryable, true);
    assert.equal(err.message, 'vault: auth/token/create answered 502');
  });

  it('no answer: refused or hanging, status null and retryable', async () => {
    const refused = await rejectsVault(client({ address: 'http://127.0.0.1:1' }).lookupSelf());
    assert.equal(refused.status, null);
    assert.equal(refused.retryable, true);
    assert.match(refused.message, /^vault: auth\/token\/lookup-self unreachable \(ECONNREFUSED\)$/);
    const cause = refused.cause as Error;
    assert.ok(!JSON.stringify(cause, Object.getOwnPropertyNames(cause)).includes(vault.rootToken));

    vault.faults.hang('auth/token/lookup-self');
    const hung = await rejectsVault(client({ timeoutMs: 150 }).lookupSelf());
    assert.equal(hung.status, null);
    assert.equal(hung.message, 'vault: auth/token/lookup-self timed out');
  });

  it('never takes its token from VAULT_TOKEN', async () => {
    const saved = process.env.VAULT_TOKEN;
    process.env.VAULT_TOKEN = vault.rootToken;
    try {
      const c = createVaultClient({ address: vault.address, timeoutMs: 5000 });
      clients.push(c);
      const err = await rejectsVault(c.lookupSelf());
      assert.ok(err.status === 400 || err.status === 403, `status ${String(err.status)}`);
    } finally {
      if (saved === undefined) delete process.env.VAULT_TOKEN;
      else process.env.VAULT_TOKEN = saved;
    }
  });
});
