import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import pg from 'pg';
import { ManualClock, systemClock, type Clock } from '../../../src/common/clock.js';
import { UnavailableError } from '../../../src/common/errors.js';
import { createLogger } from '../../../src/common/logger.js';
import type { ResourceConfig, VaultConfig } from '../../../src/daemon/config/types.js';
import type { MintedGrant } from '../../../src/daemon/vault/broker.js';
import { createVaultBroker, type VaultBroker } from '../../../src/daemon/vault/vault-broker.js';
import { createVaultClient, type VaultClient } from '../../../src/daemon/vault/vault-client.js';
import { startVaultWithDatabase, vaultApi, type VaultWithDatabase } from '../../../tools/vault-compat/src/start.js';

interface Harness {
  broker: VaultBroker;
  client: VaultClient;
  logs: Record<string, unknown>[];
  logText: () => string;
}

let fx: VaultWithDatabase;
let dir: string;
let tokenFile: string;
const opened: Harness[] = [];
/** Every error message any test saw; checked for secrets at the end. */
const seenMessages: string[] = [];
/** Every secret any test saw: tokens, passwords, secret ids. */
const seenSecrets = new Set<string>();

before(async () => {
  fx = await startVaultWithDatabase();
  seenSecrets.add(fx.vault.rootToken);
  dir = await mkdtemp(join(tmpdir(), 'jitgate-vault-broker-'));
  tokenFile = join(dir, 'token');
  // Surrounding whitespace as an editor or `echo` leaves it: must be trimmed.
  await writeFile(tokenFile, `  ${fx.vault.rootToken}\n`, { mode: 0o600 });
});

afterEach(async () => {
  fx.vault.faults.clear();
  for (const h of opened.splice(0)) await h.broker.close();
});

after(async () => {
  await fx.stop();
  await rm(dir, { recursive: true, force: true });
});

function vaultConfig(overrides: Partial<VaultConfig> = {}): VaultConfig {
  return {
    address: fx.vault.address,
    auth: { kind: 'token', tokenFile },
    timeoutMs: 5000,
    mintAttempts: 3,
    revokeAttempts: 3,
    ...overrides,
  };
}

function harness(options: { config?: Partial<VaultConfig>; clock?: Clock; backoffMs?: number } = {}): Harness {
  const config = vaultConfig(options.config);
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const logger = createLogger('debug', {
    write(line: string) {
      lines.push(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const client = createVaultClient({ address: config.address, timeoutMs: config.timeoutMs });
  const broker = createVaultBroker({ client, config, clock: options.clock ?? systemClock, logger, backoffMs: options.backoffMs ?? 0 });
  const h = { broker, client, logs, logText: () => lines.join('') };
  opened.push(h);
  return h;
}

function dbResource(overrides: Partial<ResourceConfig> = {}): ResourceConfig {
  return {
    name: 'demo-db',
    vault: { policies: fx.policies, read: `database/creds/${fx.dbRole}` },
    env: { PGUSER: 'username', PGPASSWORD: 'password', VAULT_TOKEN: 'token' },
    ttlMs: 60_000,
    maxTtlMs: 300_000,
    excessTtl: 'clamp',
    ...overrides,
  };
}

const META = { grant_id: 'g-1', request_id: 'r-1', repository: 'acme/api', sha: 'abc123' };

function remember(grant: MintedGrant): MintedGrant {
  seenSecrets.add(grant.token);
  for (const value of Object.values(grant.credentials)) seenSecrets.add(value);
  return grant;
}

async function rejectsUnavailable(promise: Promise<unknown>, message: RegExp): Promise<UnavailableError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof UnavailableError, `expected UnavailableError, got ${String(err)}`);
    assert.match(err.message, message);
    seenMessages.push(err.message);
    return err;
  }
  assert.fail('expected a rejection');
}

async function pgLogin(user: string, password: string): Promise<void> {
  const client = new pg.Client({ host: fx.pg.host, port: fx.pg.port, user, password, database: 'postgres' });
  try {
    await client.connect();
    const res = await client.query<{ who: string }>('SELECT current_user AS who');
    assert.equal(res.rows[0]?.who, user);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drives a ManualClock forward until `promise` settles (its HTTP calls are real, so poll). */
async function settleWith<T>(clock: ManualClock, promise: Promise<T>, stepMs: number): Promise<T> {
  const state = { done: false };
  const tracked = promise.finally(() => {
    state.done = true;
  });
  tracked.catch(() => undefined);
  while (!state.done) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    clock.advance(stepMs);
  }
  return tracked;
}

async function lookupAccessor(accessor: string): Promise<number> {
  return (await vaultApi(fx.vault, 'POST', 'auth/token/lookup-accessor', { accessor })).status;
}

describe('vault broker', () => {
  it('mints a child token with the resource policies and working database credentials', async () => {
    const { broker } = harness();
    await broker.authenticate();
    const recorded: string[] = [];
    const grant = remember(
      await broker.mint(dbResource(), 59_500, META, async (accessor) => {
        recorded.push(accessor);
        // The accessor is handed over before the secret is read, so a crash here is recoverable.
        assert.equal(await lookupAccessor(accessor), 200);
      }),
    );
    assert.deepEqual(recorded, [grant.accessor]);
    assert.equal(grant.ttlMs, 60_000);
    assert.equal(grant.leaseIds.length, 1);
    assert.match(grant.leaseIds[0] ?? '', new RegExp(`^database/creds/${fx.dbRole}/`));
    assert.equal(grant.credentials.VAULT_TOKEN, grant.token);
    const user = grant.credentials.PGUSER ?? '';
    const password = grant.credentials.PGPASSWORD ?? '';
    assert.ok(user !== '' && password !== '');

    await pgLogin(user, password);

    const lookup = await vaultApi(fx.vault, 'POST', 'auth/token/lookup', { token: grant.token });
    assert.equal(lookup.status, 200);
    const data = (lookup.body as { data: Record<string, unknown> }).data;
    assert.ok(typeof data.ttl === 'number' && data.ttl > 0 && data.ttl <= 60, `ttl ${String(data.ttl)}`);
    assert.equal(data.explicit_max_ttl, 60);
    assert.equal(data.renewable, false);
    assert.equal(data.num_uses, 0);
    assert.deepEqual([...(data.policies as string[])].sort(), ['default', ...fx.policies].sort());
    assert.deepEqual(data.meta, META);
    assert.match(String(data.display_name), /jitgate-demo-db/);

    await broker.revoke(grant.accessor, grant.leaseIds);
  });

  it('revoke kills the token, the lease and the database login', async () => {
    const { broker } = harness();
    await broker.authenticate();
    const grant = remember(await broker.mint(dbResource(), 30_000, META));
    const leaseId = grant.leaseIds[0] ?? '';
    assert.equal((await vaultApi(fx.vault, 'PUT', 'sys/leases/lookup', { lease_id: leaseId })).status, 200);

    await broker.revoke(grant.accessor, grant.leaseIds);

    assert.equal((await vaultApi(fx.vault, 'GET', 'auth/token/lookup-self', undefined, grant.token)).status, 403);
    assert.equal((await vaultApi(fx.vault, 'PUT', 'sys/leases/lookup', { lease_id: leaseId })).status, 400);
    assert.equal(await lookupAccessor(grant.accessor), 400);
    await assert.rejects(pgLogin(grant.credentials.PGUSER ?? '', grant.credentials.PGPASSWORD ?? ''));
    // Already gone is success: a second revoke (e.g. at start-up after a crash) must not fail.
    await broker.revoke(grant.accessor, grant.leaseIds);
  });

  it('a resource without a read path hands out the child token itself', async () => {
    const { broker } = harness();
    await broker.authenticate();
    const grant = remember(await broker.mint(dbResource({ vault: { policies: fx.policies }, env: { VAULT_TOKEN: 'token' } }), 5_000, META));
    assert.deepEqual(grant.credentials, { VAULT_TOKEN: grant.token });
    assert.deepEqual(grant.leaseIds, []);
    assert.equal((await vaultApi(fx.vault, 'GET', 'auth/token/lookup-self', undefined, grant.token)).status, 200);
    await broker.revoke(grant.accessor, []);
    assert.equal((await vaultApi(fx.vault, 'GET', 'auth/token/lookup-self', undefined, grant.token)).status, 403);
  });

  it('503 on the secret read: retried, then UnavailableError and no token left behind', async () => {
    const { broker } = harness({ config: { mintAttempts: 2 } });
    await broker.authenticate();
    fx.vault.faults.fail(`database/creds/${fx.dbRole}`, 503);
    let accessor = '';
    await rejectsUnavailable(
      broker.mint(dbResource(), 30_000, META, (a) => {
        accessor = a;
        return Promise.resolve();
      }),
      new RegExp(`^vault: database/creds/${fx.dbRole} answered 503$`),
    );
    assert.notEqual(accessor, '');
    assert.equal(await lookupAccessor(accessor), 400);
  });

  it('a transient 503 on the read is retried and the mint succeeds', async () => {
    const { broker, logs } = harness({ config: { mintAttempts: 3 } });
    await broker.authenticate();
    fx.vault.faults.fail(`database/creds/${fx.dbRole}`, 503, { times: 2 });
    const grant = remember(await broker.mint(dbResource(), 30_000, META));
    assert.equal(logs.filter((l) => l.level === 40).length, 2);
    await broker.revoke(grant.accessor, grant.leaseIds);
  });

  it('a 4xx is not retried', async () => {
    const { broker } = harness({ config: { mintAttempts: 3 } });
    await broker.authenticate();
    fx.vault.faults.fail(`database/creds/${fx.dbRole}`, 400, { times: 1 });
    let accessor = '';
    await rejectsUnavailable(
      broker.mint(dbResource(), 30_000, META, (a) => {
        accessor = a;
        return Promise.resolve();
      }),
      /answered 400$/,
    );
    assert.equal(await lookupAccessor(accessor), 400);
  });

  it('a missing credential field fails the mint and revokes what was made', async () => {
    const { broker } = harness();
    await broker.authenticate();
    let accessor = '';
    await rejectsUnavailable(
      broker.mint(dbResource({ env: { PGUSER: 'username', API_KEY: 'api_key' } }), 30_000, META, (a) => {
        accessor = a;
        return Promise.resolve();
      }),
      /has no string field "api_key" for API_KEY/,
    );
    assert.equal(await lookupAccessor(accessor), 400);
  });

  it('a failure to record the accessor revokes the token before the secret is read', async () => {
    const { broker } = harness();
    await broker.authenticate();
    let accessor = '';
    await rejectsUnavailable(
      broker.mint(dbResource(), 30_000, META, (a) => {
        accessor = a;
        return Promise.reject(new Error('disk full'));
      }),
      /recording the token accessor failed: disk full/,
    );
    assert.equal(await lookupAccessor(accessor), 400);
  });

  it('a sealed Vault fails check() and mint() with UnavailableError', async () => {
    const { broker } = harness({ config: { mintAttempts: 2 } });
    await broker.authenticate();
    await broker.check();
    fx.vault.seal();
    try {
      await rejectsUnavailable(broker.check(), /sealed/);
      await rejectsUnavailable(broker.mint(dbResource(), 30_000, META), /^vault: auth\/token\/create answered 503$/);
    } finally {
      fx.vault.unseal();
    }
    await broker.check();
  });

  it('a hanging Vault times out into UnavailableError', async () => {
    const { broker } = harness({ config: { timeoutMs: 200, mintAttempts: 1 } });
    await broker.authenticate();
    fx.vault.faults.hang('auth/token/create');
    await rejectsUnavailable(broker.mint(dbResource(), 30_000, META), /^vault: auth\/token\/create timed out$/);
  });

  it('an unreachable Vault is UnavailableError', async () => {
    const { broker } = harness({ config: { address: 'http://127.0.0.1:1', mintAttempts: 2 } });
    await rejectsUnavailable(broker.check(), /^vault: sys\/health unreachable/);
    await rejectsUnavailable(broker.mint(dbResource(), 30_000, META), /^vault: auth\/token\/create unreachable/);
  });

  it('revoke retries with backoff on the injected clock after two 500s, then succeeds', async () => {
    const clock = new ManualClock();
    const { broker, logs, logText } = harness({ clock, backoffMs: 1000 });
    await broker.authenticate();
    const grant = remember(await broker.mint(dbResource(), 30_000, META));
    fx.vault.faults.fail('auth/token/revoke-accessor', 500, { times: 2 });

    const before = clock.monotonic();
    await settleWith(clock, broker.revoke(grant.accessor, grant.leaseIds), 250);
    // Two waits: 1000 ms then 2000 ms of backoff, measured on the manual clock only.
    assert.ok(clock.monotonic() - before >= 3000, `advanced ${clock.monotonic() - before} ms`);

    const warns = logs.filter((l) => l.level === 40);
    assert.equal(warns.length, 2);
    assert.deepEqual(
      warns.map((w) => w.attempt),
      [1, 2],
    );
    assert.equal(warns[0]?.accessor, grant.accessor.slice(0, 6));
    assert.ok(!logText().includes(grant.accessor), 'full accessor logged');
    assert.equal(await lookupAccessor(grant.accessor), 400);
    assert.equal((await vaultApi(fx.vault, 'PUT', 'sys/leases/lookup', { lease_id: grant.leaseIds[0] })).status, 400);
  });

  it('revoke that fails every time throws after revokeAttempts tries and logs an error', async () => {
    const clock = new ManualClock();
    const { broker, logs } = harness({ clock, backoffMs: 100, config: { revokeAttempts: 4 } });
    await broker.authenticate();
    const grant = remember(await broker.mint(dbResource(), 30_000, META));
    fx.vault.faults.fail('auth/token/revoke-accessor', 500);

    const err = await settleWith(
      clock,
      rejectsUnavailable(broker.revoke(grant.accessor, grant.leaseIds), /failed after 4 attempts: vault: auth\/token\/revoke-accessor answered 500$/),
      100,
    );
    assert.ok(err instanceof UnavailableError);
    assert.equal(logs.filter((l) => l.level === 40).length, 3);
    const errors = logs.filter((l) => l.level === 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.accessor, grant.accessor.slice(0, 6));
    // The lease went on the first attempt; only the token is left (until its TTL).
    assert.equal((await vaultApi(fx.vault, 'PUT', 'sys/leases/lookup', { lease_id: grant.leaseIds[0] })).status, 400);
    assert.equal(await lookupAccessor(grant.accessor), 200);

    fx.vault.faults.clear();
    await settleWith(clock, broker.revoke(grant.accessor, grant.leaseIds), 100);
    assert.equal(await lookupAccessor(grant.accessor), 400);
  });

  it('token auth: an unreadable or empty token file names the file, never its content', async () => {
    const missing = join(dir, 'no-such-token');
    const { broker } = harness({ config: { auth: { kind: 'token', tokenFile: missing } } });
    await rejectsUnavailable(broker.authenticate(), new RegExp(`cannot read token_file ${missing} \\(ENOENT\\)`));
    const empty = join(dir, 'empty-token');
    await writeFile(empty, '\n  \n', { mode: 0o600 });
    const second = harness({ config: { auth: { kind: 'token', tokenFile: empty } } });
    await rejectsUnavailable(second.broker.authenticate(), new RegExp(`token_file ${empty} is empty`));
    const wrong = join(dir, 'wrong-token');
    const bogus = 'hvs.not-a-real-token-0123456789';
    seenSecrets.add(bogus);
    await writeFile(wrong, bogus, { mode: 0o600 });
    const third = harness({ config: { auth: { kind: 'token', tokenFile: wrong } } });
    await rejectsUnavailable(third.broker.authenticate(), /^vault: auth\/token\/lookup-self answered 403$/);
  });

  it('no secret appears in any error message seen by this suite', () => {
    assert.ok(seenMessages.length >= 10, `only ${seenMessages.length} messages collected`);
    assert.ok(seenSecrets.size >= 5, `only ${seenSecrets.size} secrets collected`);
    for (const message of seenMessages) {
      for (const secret of seenSecrets) assert.ok(!message.includes(secret), `secret in message: ${message.replace(secret, '***')}`);
    }
  });
});
