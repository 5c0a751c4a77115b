import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApproverIdentity } from '../../src/model/context.js';
import { accessInput, startGateFixture, StreamProbe, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const TWO_APPROVALS = `
  - name: two
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 2, from: [group:sre], expires_after: 10m }`;

const local = (name: string): ApproverIdentity => ({ subject: name, name, groups: ['sre'], aliases: [name], trust: 'local' });

describe('security 16: an approver who changes their mind can deny, and the denial wins', () => {
  let env: VaultEnv | undefined;
  let f: GateFixture | undefined;
  before(async () => {
    env = await startVaultWithDatabase();
    f = await startGateFixture({ vaultEnv: env, policies: TWO_APPROVALS });
  });
  after(async () => {
    await f?.close();
    await env?.stop();
  });

  it('the denial ends the request and is what the record keeps, also after a restart', async () => {
    assert.ok(f);
    const probe = new StreamProbe(f.gate, accessInput());
    const { request } = await probe.next('pending');
    await f.gate.approve(request.id, local('bob'), { comment: 'looks fine' });
    await f.gate.deny(request.id, local('bob'), 'wrong commit');
    const denied = await probe.next('denied');
    assert.match(denied.reason, /denied by bob \(CLI\): wrong commit/);

    const decisions = (view: { approvals: readonly { subject: string; decision: string; comment?: string }[] }): string[][] =>
      view.approvals.map((a) => [a.subject, a.decision, a.comment ?? '']);
    assert.deepEqual(decisions(await f.gate.getRequest(request.id)), [['bob', 'deny', 'wrong commit']]);
    const restarted = await f.restart();
    const view = await restarted.getRequest(request.id);
    assert.equal(view.status, 'denied');
    assert.deepEqual(decisions(view), [['bob', 'deny', 'wrong commit']]);
  });
});
