/**
 * `fleet.mint: plane` at the Vault adapter: the plane's broker mints and wraps a grant
 * (mintWrapped), the owner's credential-less Vault (createOwnerVault) unwraps it once and revokes
 * it with the child token itself. Against the Vault-compatible server with a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import { ManualClock, systemClock } from '../../../src/common/clock.js';
import { UnavailableError } from '../../../src/common/errors.js';
import { createLogger, type Logger } from '../../../src/common/logger.js';
import type { ErrorCode } from '../../../src/model/error-codes.js';
import type { ResourceConfig, VaultConfig } from '../../../src/daemon/config/types.js';
import type { MintedGrant } from '../../../src/daemon/vault/broker.js';
import { createOwnerVault, type OwnerVault } from '../../../src/daemon/vault/owner-vault.js';
import { createVaultBroker, type VaultBroker } from '../../../src/daemon/vault/vault-broker.js';
import { createVaultClient, type VaultClient } from '../../../src/daemon/vault/vault-client.js';
import type { WrappedGrant } from '../../../src/daemon/vault/wrapped-grant.js';
import { startVaultWithDatabase, vaultApi, type VaultWithDatabase } from '../../../tools/vault-compat/src/start.js';
import { canLogin as canLoginAt } from '../../../tools/vault-compat/test/fixtures.js';

// The server's TTLs move only when the test says so (wrap TTL expiry); real wall time as the start
// because PostgreSQL checks VALID UNTIL against its own clock.
const vaultClock = new ManualClock(Date.now());
let fx: VaultWithDatabase;
let dir: string;
let broker: VaultBroker;
let planeClient: VaultClient;
let owner: OwnerVault;
const logLines: string[] = [];
const seenMessages: string[] = [];
const seenSecrets = new Set<string>();

function logger(): Logger {
  return createLogger('debug', {
    write(line: string) {
      logLines.push(line);
    },
  });
}

before(async () => {
  fx = await startVaultWithDatabase({ clock: vaultClock });
  seenSecrets.add(fx.vault.rootToken);
  dir = await mkdtemp(join(tmpdir(), 'jitgate-plane-mint-'));
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, fx.vault.rootToken, { mode: 0o600 });
  const config: VaultConfig = { address: fx.vault.address, auth: { kind: 'token', tokenFile }, timeoutMs: 5000, mintAttempts: 2, revokeAttempts: 2 };
  planeClient = createVaultClient({ address: config.address, timeoutMs: config.timeoutMs });
  broker = createVaultBroker({ client: planeClient, config, clock: systemClock, logger: logger(), backoffMs: 0 });
  await broker.authenticate();
  owner = createOwnerVault({ address: fx.vault.address, timeoutMs: 5000, clock: systemClock, logger: logger(), revokeAttempts: 2, backoffMs: 0 });
});

afterEach(() => {
  fx.vault.faults.clear();
});

after(async () => {
  owner.close();
  await broker.close();
  await fx.stop();
  await rm(dir, { recursive: true, force: true });
});

const RESOURCE: ResourceConfig = {
  name: 'demo-db',
  vault: { policies: ['jit-demo-db'], read: 'database/creds/jit-demo' },
  env: { PGUSER: 'username', PGPASSWORD: 'password', VAULT_TOKEN: 'token' },
  ttlMs: 60_000,
  maxTtlMs: 300_000,
  excessTtl: 'clamp',
};
const META = { grant_id: 'g-plane', request_id: 'r-plane', repository: 'acme/api', sha: 'abc123' };

function remember(grant: MintedGrant): MintedGrant {
  seenSecrets.add(grant.token);
  for (const value of Object.values(grant.credentials)) seenSecrets.add(value);
  return grant;
}

async function mintWrapped(wrapTtlS = 60): Promise<WrappedGrant> {
  const wrapped = await broker.mintWrapped(RESOURCE, 60_000, META, wrapTtlS);
  seenSecrets.add(wrapped.wrappingToken);
  return wrapped;
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    seenMessages.push(err.message);
    return;
  }
  assert.fail('expected a rejection');
}

function canLogin(user: string, password: string): Promise<boolean> {
  return canLoginAt(fx.pg.url, user, password);
}

async function vaultRoleCount(): Promise<number> {
  const client = new pg.Client({ connectionString: fx.pg.url });
  await client.connect();
  try {
    const res = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_roles WHERE rolname LIKE 'v-%'");
    return Number(res.rows[0]?.n);
  } finally {
    await client.end();
  }
}

const accessorStatus = async (accessor: string): Promise<number> => (await vaultApi(fx.vault, 'POST', 'auth/token/lookup-accessor', { accessor })).status;

describe('plane mint (mintWrapped) and owner unwrap', () => {
  it('the plane gets a wrapping token and non-secret facts; the owner, with no Vault token, unwraps working credentials', async () => {
    const before = Date.now();
    const wrapped = await mintWrapped(90);
    assert.equal(wrapped.wrapTtlS, 90);
    assert.equal(wrapped.ttlMs, 60_000);
    assert.ok(wrapped.expiresAtMs >= before + 60_000 && wrapped.expiresAtMs <= Date.now() + 60_000, 'expiry at or after the token end');
    assert.equal(wrapped.leaseIds.length, 1);
    assert.match(wrapped.leaseIds[0] ?? '', /^database\/creds\/jit-demo\//);
    assert.equal(await accessorStatus(wrapped.accessor), 200);
    const lookup = await vaultApi(fx.vault, 'POST', 'sys/wrapping/lookup', { token: wrapped.wrappingToken });
    assert.equal((lookup.body as { data: { creation_path: string } }).data.creation_path, 'sys/wrapping/wrap');

    const grant = remember(await owner.unwrap(wrapped.wrappingToken, wrapped.accessor));
    assert.equal(grant.accessor, wrapped.accessor);
    assert.deepEqual(grant.leaseIds, wrapped.leaseIds);
    assert.equal(grant.ttlMs, 60_000);
    assert.equal(grant.credentials.VAULT_TOKEN, grant.token);
    assert.equal(await canLogin(grant.credentials.PGUSER ?? '', grant.credentials.PGPASSWORD ?? ''), true);
    // The child token is the grant's, with the resource policies and the accessor the plane stored.
    const self = await vaultApi(fx.vault, 'GET', 'auth/token/lookup-self', undefined, grant.token);
    assert.equal((self.body as { data: { accessor: string } }).data.accessor, wrapped.accessor);
    // What the plane keeps holds none of the grant's secrets.
    const kept = JSON.stringify({ ...wrapped, wrappingToken: undefined });
    for (const secret of [grant.token, ...Object.values(grant.credentials)]) assert.ok(!kept.includes(secret));
    assert.equal(await owner.revokeSelf(grant.token), 'revoked');
  });

  it('a second unwrap fails with WRAPPING_TOKEN_INVALID, and the first unwrap’s grant still works', async () => {
    const wrapped = await mintWrapped();
    const grant = remember(await owner.unwrap(wrapped.wrappingToken));
    await rejectsWith(owner.unwrap(wrapped.wrappingToken), 'WRAPPING_TOKEN_INVALID', /already unwrapped, expired or unknown/);
    assert.equal(await canLogin(grant.credentials.PGUSER ?? '', grant.credentials.PGPASSWORD ?? ''), true);
    await owner.revokeSelf(grant.token);
  });

  it('a thief’s unwrap makes the owner’s fail with WRAPPING_TOKEN_INVALID', async () => {
    const wrapped = await mintWrapped();
    const stolen = await vaultApi(fx.vault, 'POST', 'sys/wrapping/unwrap', {}, wrapped.wrappingToken);
    assert.equal(stolen.status, 200);
    await rejectsWith(owner.unwrap(wrapped.wrappingToken, wrapped.accessor), 'WRAPPING_TOKEN_INVALID', /wrapping token is invalid/);
    await broker.revoke(wrapped.accessor, wrapped.leaseIds);
  });

  it('an expired wrapping token fails with WRAPPING_TOKEN_INVALID; the plane revokes by accessor', async () => {
    const wrapped = await mintWrapped(5);
    vaultClock.advance(5_000);
    await rejectsWith(owner.unwrap(wrapped.wrappingToken), 'WRAPPING_TOKEN_INVALID', /already unwrapped, expired or unknown/);
    await broker.revoke(wrapped.accessor, wrapped.leaseIds);
    assert.equal(await accessorStatus(wrapped.accessor), 400);
  });

  it('refuses (and revokes) a grant whose accessor is not the one the plane recorded', async () => {
    const wrapped = await mintWrapped();
    const roles = await vaultRoleCount();
    await rejectsWith(owner.unwrap(wrapped.wrappingToken, 'some-other-accessor-0123'), 'WRAPPING_TOKEN_INVALID', /not the one the plane recorded/);
    assert.equal(await accessorStatus(wrapped.accessor), 400);
    assert.equal(await vaultRoleCount(), roles - 1);
  });

  it('refuses wrapped data that is not a jitgate grant, without quoting it', async () => {
    const secret = 'not-for-any-log-8c1f';
    seenSecrets.add(secret);
    const info = await planeClient.wrap({ token: secret, password: secret }, 30);
    seenSecrets.add(info.token);
    await rejectsWith(owner.unwrap(info.token), 'ERR_UNAVAILABLE', /^vault: the unwrapped grant is malformed \(not a jitgate grant\)$/);
  });

  it('a failed wrap revokes the minted grant: nothing half-issued', async () => {
    const accessors: string[] = [];
    const roles = await vaultRoleCount();
    fx.vault.faults.fail('sys/wrapping/wrap', 500, { times: 1 });
    await rejectsWith(
      broker.mintWrapped(RESOURCE, 30_000, META, 60, async (a) => {
        accessors.push(a);
        await Promise.resolve();
      }),
      'ERR_UNAVAILABLE',
      /^vault: wrapping the demo-db grant failed: vault: sys\/wrapping\/wrap answered 500$/,
    );
    assert.equal(accessors.length, 1);
    assert.equal(await accessorStatus(accessors[0] ?? ''), 400);
    assert.equal(await vaultRoleCount(), roles);
  });

  it('refuses a wrap TTL outside 1 s..1 day before minting anything', async () => {
    const roles = await vaultRoleCount();
    for (const ttl of [0, -1, 86_401, Number.NaN]) {
      await rejectsWith(broker.mintWrapped(RESOURCE, 30_000, META, ttl), 'ERR_UNAVAILABLE', /wrap TTL must be 1\.\.86400 seconds/);
    }
    assert.equal(await vaultRoleCount(), roles);
  });
});

describe('owner revoke-self', () => {
  it('revokes the child token and its lease with the child token itself: the database login is gone', async () => {
    const wrapped = await mintWrapped();
    const grant = remember(await owner.unwrap(wrapped.wrappingToken, wrapped.accessor));
    const user = grant.credentials.PGUSER ?? '';
    assert.equal(await owner.revokeSelf(grant.token), 'revoked');
    assert.equal(await canLogin(user, grant.credentials.PGPASSWORD ?? ''), false);
    assert.equal(await accessorStatus(wrapped.accessor), 400);
    const lease = await vaultApi(fx.vault, 'PUT', 'sys/leases/lookup', { lease_id: wrapped.leaseIds[0] });
    assert.equal(lease.status, 400);
    // Again: Vault no longer knows the token; the caller learns it was refused, not an error.
    assert.equal(await owner.revokeSelf(grant.token), 'refused');
    // The plane's backstop by accessor treats "already gone" as done.
    await broker.revoke(wrapped.accessor, wrapped.leaseIds);
  });

  it('retries a failing Vault, and reports UNAVAILABLE when every attempt failed', async () => {
    const wrapped = await mintWrapped();
    const grant = remember(await owner.unwrap(wrapped.wrappingToken));
    fx.vault.faults.fail('auth/token/revoke-self', 503, { times: 1 });
    assert.equal(await owner.revokeSelf(grant.token), 'revoked');
    const again = await mintWrapped();
    const second = remember(await owner.unwrap(again.wrappingToken));
    fx.vault.faults.fail('auth/token/revoke-self', 503);
    await rejectsWith(owner.revokeSelf(second.token), 'ERR_UNAVAILABLE', /^vault: revoke-self failed: vault: auth\/token\/revoke-self answered 503$/);
    fx.vault.faults.clear();
    assert.equal(await accessorStatus(again.accessor), 200);
    assert.equal(await owner.revokeSelf(second.token), 'revoked');
  });
});

describe('secrets', () => {
  it('no token, password or wrapping token appears in an error message or a log line', () => {
    assert.ok(seenMessages.length >= 8, `only ${seenMessages.length} messages`);
    assert.ok(seenSecrets.size >= 10, `only ${seenSecrets.size} secrets`);
    assert.ok(logLines.length > 0, 'the suite produced log lines');
    for (const text of [...seenMessages, ...logLines]) {
      for (const secret of seenSecrets) assert.ok(!text.includes(secret), `secret in: ${text.replace(secret, '***')}`);
    }
  });
});
