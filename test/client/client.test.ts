import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AccessDeniedError } from '../../src/client/access-denied-error.js';
import { JitgateClient } from '../../src/client/client.js';
import type { AccessProgress } from '../../src/client/types.js';
import { InvalidArgumentError, PermissionDeniedError, UnavailableError } from '../../src/common/errors.js';
import { SECRET_PASSWORD, startHarness, type Harness } from '../daemon/grpc/test-gate.js';

describe('JitgateClient', () => {
  let h: Harness;
  let client: JitgateClient;
  before(async () => {
    h = await startHarness();
    client = new JitgateClient({ socket: h.socket, approver: 'bob', context: { repository: 'acme/api' } });
  });
  after(async () => {
    client.close();
    await h.close();
  });

  it('request resolves with the credentials and reports progress', async () => {
    const seen: AccessProgress['state'][] = [];
    const grant = await client.request({ resource: 'auto-db', reason: 'migrate', ttl: '30s', onUpdate: (u) => seen.push(u.state) });
    try {
      assert.equal(grant.credentials.PGPASSWORD, SECRET_PASSWORD);
      assert.equal(grant.credentials.PGUSER, `user-${grant.requestId}`);
      assert.equal(grant.expiresAt.getTime(), 2_000_000_000_000);
      assert.deepEqual(seen, ['pending', 'granted']);
      assert.deepEqual(h.gate.inputs.at(-1)?.claimed, { repository: 'acme/api' });
      assert.equal(h.gate.inputs.at(-1)?.ttlMs, 30_000);
    } finally {
      await grant.release();
    }
  });

  it('release is idempotent and ends the grant as released', async () => {
    const grant = await client.request({ resource: 'auto-db' });
    const first = grant.release();
    const second = grant.release();
    assert.equal(first, second);
    await first;
    await grant.release();
    assert.deepEqual(await grant.ended, { outcome: 'released' });
    assert.deepEqual(
      h.gate.released.filter((id) => id === grant.id),
      [grant.id],
    );
  });

  it('await using releases the grant at the end of the scope', async () => {
    let grantId: string;
    {
      await using grant = await client.request({ resource: 'auto-db' });
      grantId = grant.id;
      assert.ok(!h.gate.released.includes(grantId));
    }
    assert.ok(h.gate.released.includes(grantId));
  });

  it('a denial rejects with AccessDeniedError carrying outcome, reason and request id', async () => {
    const err = await client.request({ resource: 'deny-db' }).then(
      () => assert.fail('expected a denial'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof AccessDeniedError);
    assert.equal(err.code, 'ERR_ACCESS_DENIED');
    assert.equal(err.outcome, 'denied');
    assert.equal(err.reason, 'policy says no');
    assert.match(err.requestId, /^req-/);
  });

  it('an expiry rejects with outcome expired', async () => {
    await assert.rejects(client.request({ resource: 'expire-db' }), (e: unknown) => e instanceof AccessDeniedError && e.outcome === 'expired');
  });

  it('aborting a pending request cancels it at the daemon', async () => {
    const controller = new AbortController();
    const aborted = h.gate.nextAbort();
    const pending = client.request({
      resource: 'hold-db',
      signal: controller.signal,
      onUpdate: (u) => {
        if (u.state === 'pending') controller.abort(new Error('user gave up'));
      },
    });
    await assert.rejects(pending, { message: 'user gave up' });
    await aborted;
    assert.ok(h.gate.aborted.length > 0);
  });

  it('turns gRPC statuses back into typed errors', async () => {
    await assert.rejects(client.request({ resource: 'BAD' }), (e: unknown) => e instanceof InvalidArgumentError && e.field === 'resource');
    h.gate.errors['sdk-perm'] = new PermissionDeniedError('the requester cannot approve');
    await assert.rejects(client.getRequest('sdk-perm'), (e: unknown) => e instanceof PermissionDeniedError && e.message === 'the requester cannot approve');
  });

  it('approver calls carry the local approver identity', async () => {
    const r = await client.approve('req-5', { comment: 'ok' });
    assert.equal(r.status, 'approved');
    assert.deepEqual(h.gate.approvals.at(-1), { id: 'req-5', approver: 'bob', comment: 'ok', channel: 'cli' });
    const d = await client.deny('req-6', { reason: 'not now' });
    assert.equal(d.statusReason, 'not now');
    const list = await client.listRequests({ status: ['released'] });
    assert.deepEqual(
      list.map((x) => x.id),
      ['req-b'],
    );
    const shown = await client.getRequest('req-7');
    assert.equal(shown.context.ref, 'refs/heads/main');
    assert.equal(shown.context.trust, 'local');
  });

  it('watch yields requests until aborted', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const r of client.watch({ signal: controller.signal })) {
      seen.push(r.id);
      controller.abort();
    }
    assert.deepEqual(seen, ['req-w']);
  });

  it('a daemon that is not there is UnavailableError', async () => {
    const lost = new JitgateClient({ socket: `${h.dir}/missing.sock` });
    try {
      await assert.rejects(lost.request({ resource: 'auto-db' }), (e: unknown) => e instanceof UnavailableError);
    } finally {
      lost.close();
    }
  });
});
