import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { ApproverIdentity } from '../../src/model/context.js';
import type { AccessUpdate } from '../../src/model/request.js';
import { accessInput, startGateFixture, type GateFixture, type VaultEnv } from '../support/gate-fixture.js';
import { startVaultWithDatabase } from '../../tools/vault-compat/src/start.js';

const ONE_APPROVAL = `
  - name: one
    match: { resource: demo-db, repository: acme/api }
    require: { approvals: 1, from: [group:sre], expires_after: 10m }`;

const bob: ApproverIdentity = { subject: 'bob', name: 'bob', groups: ['sre'], aliases: ['bob'], trust: 'local' };

async function auditRecords(f: GateFixture): Promise<{ type: string; requestId?: string; reason?: string }[]> {
  return (await readFile(f.config.audit.file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
}

describe('security 13: a request approved as its step disconnects ends abandoned, never approved for ever', () => {
  let env: VaultEnv | undefined;
  let f: GateFixture | undefined;
  before(async () => {
    env = await startVaultWithDatabase();
    f = await startGateFixture({ vaultEnv: env, policies: ONE_APPROVAL });
  });
  after(async () => {
    await f?.close();
    await env?.stop();
  });

  /** Drives the gate as the gRPC handler does: write each update, stop when the stream has broken. */
  async function stepThatLeavesAt(gate: GateFixture['gate'], leaveAt: AccessUpdate['kind'], onPending: (id: string) => Promise<void>): Promise<AccessUpdate[]> {
    const controller = new AbortController();
    const seen: AccessUpdate[] = [];
    for await (const update of gate.requestAccess(accessInput(), controller.signal)) {
      seen.push(update);
      if (update.kind === 'pending' && seen.length === 1) await onPending(update.request.id);
      if (update.kind === leaveAt) controller.abort();
      if (controller.signal.aborted) break;
    }
    return seen;
  }

  it('the stream breaks just as the final approval lands: denied (abandoned), audited, nothing minted', async () => {
    assert.ok(f);
    const fixture = f;
    const seen = await stepThatLeavesAt(fixture.gate, 'approved', async (id) => {
      await fixture.gate.approve(id, bob);
    });
    assert.deepEqual(
      seen.map((u) => u.kind),
      ['pending', 'approved'],
    );
    const id = seen[0]?.request.id ?? '';
    const view = await fixture.gate.getRequest(id);
    assert.equal(view.status, 'denied', 'not left approved');
    assert.match(view.statusReason ?? '', /^abandoned/);
    const records = (await auditRecords(fixture)).filter((r) => r.requestId === id).map((r) => r.type);
    assert.ok(records.includes('request.abandoned'), records.join(', '));
    assert.ok(!records.includes('grant.mint.intent'), 'nothing was minted for a step that is gone');
    assert.equal((await fixture.store.listRequests({ statuses: ['approved'] })).length, 0);
  });

  it('a step that keeps reading is granted as before', async () => {
    assert.ok(f);
    const fixture = f;
    const controller = new AbortController();
    const kinds: string[] = [];
    for await (const update of fixture.gate.requestAccess(accessInput(), controller.signal)) {
      kinds.push(update.kind);
      if (update.kind === 'pending' && kinds.length === 1) await fixture.gate.approve(update.request.id, bob);
      if (update.kind === 'granted') await fixture.gate.release(update.grant.id, update.grant.releaseToken);
    }
    assert.deepEqual(kinds, ['pending', 'approved', 'granted', 'released']);
  });
});
