import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock, type Mock } from 'node:test';
import { AccessDeniedError } from '../../src/client/access-denied-error.js';
import { JitgateClient } from '../../src/client/client.js';
import { requestAccess } from '../../src/client/index.js';
import { SECRET_PASSWORD, startHarness, type Harness } from '../daemon/grpc/test-gate.js';

describe('requestAccess', () => {
  let h: Harness;
  let close: Mock<JitgateClient['close']>;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });
  beforeEach(() => {
    // Observe the closing of the client requestAccess creates, without changing what close does.
    close = mock.method(JitgateClient.prototype, 'close');
  });
  afterEach(() => {
    mock.restoreAll();
  });

  it('resolves with the grant, passes the request through, and closes the client once released', async () => {
    const seen: string[] = [];
    const grant = await requestAccess({
      socket: h.socket,
      idToken: 'ci-token',
      context: { repository: 'acme/api' },
      resource: 'auto-db',
      reason: 'migrate',
      ttl: '30s',
      onUpdate: (u) => seen.push(u.state),
    });
    assert.equal(grant.credentials.PGPASSWORD, SECRET_PASSWORD);
    assert.deepEqual(seen, ['pending', 'granted']);
    const input = h.gate.inputs.at(-1);
    assert.deepEqual(
      { resource: input?.resource, reason: input?.reason, ttlMs: input?.ttlMs, idToken: input?.idToken, claimed: input?.claimed },
      { resource: 'auto-db', reason: 'migrate', ttlMs: 30_000, idToken: 'ci-token', claimed: { repository: 'acme/api' } },
    );
    assert.equal(close.mock.callCount(), 0, 'the connection stays open while the grant is held');

    await grant.release();
    assert.deepEqual(await grant.ended, { outcome: 'released' });
    await new Promise(setImmediate);
    assert.equal(close.mock.callCount(), 1);
    assert.ok(h.gate.released.includes(grant.id));
  });

  it('await using releases the grant and closes the client at the end of the scope', async () => {
    let grantId: string;
    {
      await using grant = await requestAccess({ socket: h.socket, resource: 'auto-db' });
      grantId = grant.id;
      assert.ok(!h.gate.released.includes(grantId));
    }
    await new Promise(setImmediate);
    assert.ok(h.gate.released.includes(grantId));
    assert.equal(close.mock.callCount(), 1);
  });

  it('a denial rejects with AccessDeniedError and closes the client', async () => {
    await assert.rejects(
      requestAccess({ socket: h.socket, resource: 'deny-db' }),
      (e: unknown) => e instanceof AccessDeniedError && e.outcome === 'denied' && e.reason === 'policy says no',
    );
    assert.equal(close.mock.callCount(), 1);
  });

  it('an abort before the grant rejects with the reason and closes the client', async () => {
    const controller = new AbortController();
    const pending = requestAccess({
      socket: h.socket,
      resource: 'hold-db',
      signal: controller.signal,
      onUpdate: (u) => {
        if (u.state === 'pending') controller.abort(new Error('user gave up'));
      },
    });
    await assert.rejects(pending, { message: 'user gave up' });
    assert.equal(close.mock.callCount(), 1);
  });

  it('a grant the daemon ends (shutdown) is lost, and the client is closed', async () => {
    const own = await startHarness();
    try {
      const grant = await requestAccess({ socket: own.socket, resource: 'auto-db' });
      assert.equal(close.mock.callCount(), 0);
      await own.server.shutdown(100);
      const end = await grant.ended;
      assert.equal(end.outcome, 'lost');
      await new Promise(setImmediate);
      assert.equal(close.mock.callCount(), 1);
    } finally {
      await own.close();
    }
  });
});
