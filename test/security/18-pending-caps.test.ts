import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ResourceExhaustedError } from '../../src/common/errors.js';
import { accessInput, gateConfigYaml, LOCAL_CONTEXT, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';
import { parseConfig } from '../../src/daemon/config/load-config.js';

const ANY_REPO = `
  - name: approve-everything
    match: { resource: demo-db, repository: 'acme/*' }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }`;

function fromRepo(repository: string, actor: string): ReturnType<typeof accessInput> {
  return accessInput({ claimed: { ...LOCAL_CONTEXT, repository, actor } });
}

describe('security 18: pending requests are capped per repository and per actor', () => {
  let env: VaultEnv | undefined;
  let f: GateFixture | undefined;
  before(async () => {
    env = await startVaultWithDatabase();
    f = await startGateFixture({ vaultEnv: env, policies: ANY_REPO, extraConfig: 'limits: { pending_per_repository: 3, pending_per_actor: 2 }' });
  });
  after(async () => {
    await f?.close();
    await env?.stop();
  });

  it('one repository cannot fill the queue: RESOURCE_EXHAUSTED naming the limit, others still served, a slot frees on decision', async () => {
    assert.ok(f);
    const gate = f.gate;
    const held = [fromRepo('acme/flood', 'a1'), fromRepo('acme/flood', 'a2'), fromRepo('acme/flood', 'a3')].map((input) => new StreamProbe(gate, input));
    await Promise.all(held.map((p) => p.next('pending')));
    const fourth = new StreamProbe(f.gate, fromRepo('acme/flood', 'a4'));
    const refused = await fourth.done;
    assert.ok(refused instanceof ResourceExhaustedError, String(refused));
    assert.equal(refused.code, 'TOO_MANY_PENDING');
    assert.match(refused.message, /repository acme\/flood \(limits\.pending_per_repository: 3\)/);
    assert.equal(fourth.updates.length, 0);

    const other = new StreamProbe(f.gate, fromRepo('acme/api', 'b1'));
    await other.next('pending');

    // A decided request gives its place back.
    held[0]?.controller.abort();
    await held[0]?.done;
    const again = new StreamProbe(f.gate, fromRepo('acme/flood', 'a5'));
    await again.next('pending');

    for (const p of [...held, other, again]) p.controller.abort();
    await Promise.all([...held, other, again].map((p) => p.done));
  });

  it('one actor across repositories is capped too; concurrent requests cannot overshoot', async () => {
    assert.ok(f);
    const gate = f.gate;
    const burst = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map((repo) => new StreamProbe(gate, fromRepo(`acme/${repo}`, 'mallory')));
    const ends = await Promise.all(burst.map((p) => Promise.race([p.next('pending').then(() => 'pending'), p.done.then((e) => e)])));
    const pending = ends.filter((e) => e === 'pending').length;
    const refusals = ends.filter((e): e is ResourceExhaustedError => e instanceof ResourceExhaustedError);
    assert.equal(pending, 2, 'exactly the limit, even when all arrive at once');
    assert.equal(refusals.length, 4);
    assert.match(refusals[0]?.message ?? '', /actor mallory \(limits\.pending_per_actor: 2\)/);
    for (const p of burst) p.controller.abort();
    await Promise.all(burst.map((p) => p.done));
  });

  it('safe defaults: 20 per repository, 10 per actor', () => {
    const config = parseConfig(gateConfigYaml('/tmp/jitgate-defaults', 'http://127.0.0.1:1', 'role', ANY_REPO), { source: 'test.yaml', baseDir: '/tmp' });
    assert.equal(config.limits.pendingPerRepository, 20);
    assert.equal(config.limits.pendingPerActor, 10);
  });
});
