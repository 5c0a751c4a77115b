import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { UnavailableError } from '../../../src/common/errors.js';
import { createLogger } from '../../../src/common/logger.js';
import type { ResourceConfig, VaultConfig } from '../../../src/daemon/config/types.js';
import { createVaultBroker, type VaultBroker } from '../../../src/daemon/vault/vault-broker.js';
import { createVaultClient, type VaultClient } from '../../../src/daemon/vault/vault-client.js';
import { vaultApi } from '../../../tools/vault-compat/src/start.js';
import { startVaultServer } from '../../../tools/vault-compat/src/server.js';

type Server = Awaited<ReturnType<typeof startVaultServer>>;

const clock = new ManualClock();
let vault: Server;
let dir: string;
let roleIdFile: string;
let secretIdFile: string;
let roleId = '';
let secretId = '';
const opened: VaultBroker[] = [];

async function api(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await vaultApi(vault, method, path, body);
  assert.ok(res.status < 300, `${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return (res.body ?? {}) as Record<string, unknown>;
}

before(async () => {
  vault = await startVaultServer({ clock });
  await api('POST', 'sys/policies/acl/jit-deploy', { policy: 'path "secret/data/deploy" {\n  capabilities = ["read"]\n}\n' });
  await api('POST', 'sys/policies/acl/jitgate-daemon', {
    policy: [
      'path "auth/token/create" { capabilities = ["update"] }',
      'path "auth/token/revoke-accessor" { capabilities = ["update"] }',
      'path "auth/token/lookup-accessor" { capabilities = ["update"] }',
      'path "sys/leases/revoke" { capabilities = ["update"] }',
    ].join('\n'),
  });
  // The daemon holds every policy it hands out: child policies must be a subset of the parent's.
  await api('POST', 'auth/approle/role/jitgated', {
    token_policies: ['jitgate-daemon', 'jit-deploy'],
    token_ttl: '60s',
    token_max_ttl: '150s',
  });
  roleId = String(((await api('GET', 'auth/approle/role/jitgated/role-id')).data as Record<string, unknown>).role_id);
  secretId = String(((await api('POST', 'auth/approle/role/jitgated/secret-id', {})).data as Record<string, unknown>).secret_id);
  dir = await mkdtemp(join(tmpdir(), 'jitgate-approle-'));
  roleIdFile = join(dir, 'role_id');
  secretIdFile = join(dir, 'secret_id');
  await writeFile(roleIdFile, `${roleId}\n`, { mode: 0o600 });
  await writeFile(secretIdFile, `${secretId}\n`, { mode: 0o600 });
});

afterEach(async () => {
  vault.faults.clear();
  for (const b of opened.splice(0)) await b.close();
});

after(async () => {
  await vault.close();
  await rm(dir, { recursive: true, force: true });
});

function setup(auth?: VaultConfig['auth']): { broker: VaultBroker; client: VaultClient; logs: Record<string, unknown>[]; text: () => string } {
  const config: VaultConfig = {
    address: vault.address,
    auth: auth ?? { kind: 'approle', roleIdFile, secretIdFile, mount: 'approle' },
    timeoutMs: 5000,
    mintAttempts: 2,
    revokeAttempts: 2,
  };
  const logs: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const logger = createLogger('debug', {
    write(line: string) {
      lines.push(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const client = createVaultClient({ address: vault.address, timeoutMs: 5000 });
  const broker = createVaultBroker({ client, config, clock, logger, backoffMs: 0 });
  opened.push(broker);
  return { broker, client, logs, text: () => lines.join('') };
}

const deploy: ResourceConfig = {
  name: 'deploy-prod',
  vault: { policies: ['jit-deploy'] },
  env: { VAULT_TOKEN: 'token' },
  ttlMs: 30_000,
  maxTtlMs: 60_000,
  excessTtl: 'clamp',
};

/** Waits (real time, bounded) for the broker's asynchronous refresh to log `msg` `count` times. */
async function waitForLog(logs: Record<string, unknown>[], msg: string, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (logs.filter((l) => l.msg === msg).length >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`log "${msg}" seen fewer than ${count} times`);
}

describe('vault broker with AppRole', () => {
  it('logs in from role_id/secret_id files, mints and revokes', async () => {
    const { broker, text } = setup();
    await broker.authenticate();
    await broker.check();
    const grant = await broker.mint(deploy, 30_000, { grant_id: 'g-approle' });
    const lookup = await vaultApi(vault, 'GET', 'auth/token/lookup-self', undefined, grant.token);
    assert.equal(lookup.status, 200);
    assert.deepEqual([...((lookup.body as { data: { policies: string[] } }).data.policies)].sort(), ['default', 'jit-deploy']);
    await broker.revoke(grant.accessor, grant.leaseIds);
    assert.equal((await vaultApi(vault, 'GET', 'auth/token/lookup-self', undefined, grant.token)).status, 403);
    assert.ok(!text().includes(secretId) && !text().includes(roleId) && !text().includes(grant.token));
  });

  it('renews at 2/3 of the TTL and logs in again when renewal stops extending the token', async () => {
    const { broker, client, logs } = setup();
    await broker.authenticate();
    assert.equal((await client.lookupSelf()).ttlS, 60);

    clock.advance(40_000); // renew: 60 s again
    await waitForLog(logs, 'vault: daemon token renewed', 1);
    assert.equal((await client.lookupSelf()).ttlS, 60);
    clock.advance(40_000); // renew: 60 s (t=80, max at 150)
    await waitForLog(logs, 'vault: daemon token renewed', 2);
    clock.advance(40_000); // renew: capped to 30 s
    await waitForLog(logs, 'vault: daemon token renewed', 3);
    assert.equal((await client.lookupSelf()).ttlS, 30);
    clock.advance(20_000); // renew: capped to 10 s, too short: log in again
    await waitForLog(logs, 'vault: daemon authenticated', 2);
    assert.equal((await client.lookupSelf()).ttlS, 60);

    clock.advance(40_000); // t=180: past the first token's max TTL, the new one is renewed
    await waitForLog(logs, 'vault: daemon token renewed', 4);
    const self = await client.lookupSelf();
    assert.equal(self.ttlS, 60);
    assert.equal(self.renewable, true);
    await broker.check();
  });

  it('a failed renewal falls back to a fresh login', async () => {
    const { broker, client, logs } = setup();
    await broker.authenticate();
    vault.faults.fail('auth/token/renew-self', 500, { times: 1 });
    clock.advance(40_000);
    await waitForLog(logs, 'vault: daemon authenticated', 2);
    assert.equal(logs.filter((l) => l.level === 40).length, 1);
    assert.equal((await client.lookupSelf()).ttlS, 60);
  });

  it('a wrong secret_id fails with UnavailableError that shows neither id', async () => {
    const wrong = join(dir, 'wrong_secret_id');
    const bogus = 'a1b2c3d4-0000-4000-8000-bogusbogus00';
    await writeFile(wrong, bogus, { mode: 0o600 });
    const { broker, text } = setup({ kind: 'approle', roleIdFile, secretIdFile: wrong, mount: 'approle' });
    await assert.rejects(broker.authenticate(), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.match(err.message, /^vault: auth\/approle\/login answered 4\d\d$/);
      assert.ok(!err.message.includes(bogus) && !err.message.includes(roleId));
      return true;
    });
    const missing = join(dir, 'nope');
    const second = setup({ kind: 'approle', roleIdFile: missing, secretIdFile, mount: 'approle' });
    await assert.rejects(second.broker.authenticate(), new RegExp(`cannot read role_id_file ${missing}`));
    assert.ok(!text().includes(bogus));
  });
});
