import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceConfig } from '../../../src/daemon/config/types.js';
import type { Broker, MintedGrant } from '../../../src/daemon/vault/broker.js';
import { deferAuthentication } from '../../../src/daemon/vault/deferred-auth-broker.js';
import type { WrappedGrant } from '../../../src/daemon/vault/wrapped-grant.js';

/** A broker that records the order of calls; its login finishes when the test says so. */
function recordingBroker(login: () => Promise<void>): { broker: Broker & { authenticate(): Promise<void> }; calls: string[] } {
  const calls: string[] = [];
  const minted: MintedGrant = { token: 't', accessor: 'a', leaseIds: [], credentials: {}, ttlMs: 1000 };
  return {
    calls,
    broker: {
      async authenticate() {
        calls.push('authenticate:start');
        await login();
        calls.push('authenticate:end');
      },
      mint: () => {
        calls.push('mint');
        return Promise.resolve(minted);
      },
      revoke: () => {
        calls.push('revoke');
        return Promise.resolve();
      },
      check: () => {
        calls.push('check');
        return Promise.resolve();
      },
      close: () => {
        calls.push('close');
        return Promise.resolve();
      },
    },
  };
}

function gate(): { promise: Promise<void>; open: () => void; fail: (err: Error) => void } {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

const RESOURCE = { name: 'r' } as unknown as ResourceConfig;

describe('deferAuthentication', () => {
  it('does not log in until a Vault call or authenticate(), then every call waits for the login', async () => {
    const login = gate();
    const { broker, calls } = recordingBroker(() => login.promise);
    const deferred = deferAuthentication(broker, () => assert.fail('no error expected'));
    assert.deepEqual(calls, []);
    const mint = deferred.mint(RESOURCE, 1000, {});
    const revoke = deferred.revoke('acc', []);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['authenticate:start']);
    login.open();
    await Promise.all([mint, revoke, deferred.authenticate()]);
    assert.deepEqual(calls, ['authenticate:start', 'authenticate:end', 'mint', 'revoke']);
  });

  it('reports a failed login once and lets calls through, so they fail closed at Vault', async () => {
    const login = gate();
    const { broker, calls } = recordingBroker(() => login.promise);
    const errors: unknown[] = [];
    const deferred = deferAuthentication(broker, (err) => errors.push(err));
    const started = deferred.authenticate();
    login.fail(new Error('permission denied'));
    await started;
    await deferred.check();
    await deferred.mint(RESOURCE, 1000, {});
    assert.equal(errors.length, 1);
    assert.deepEqual(calls, ['authenticate:start', 'check', 'mint']);
  });

  it('passes the plane’s wrapped mint through after the login, and offers none when the broker has none', async () => {
    const login = gate();
    const { broker, calls } = recordingBroker(() => login.promise);
    const wrapped: WrappedGrant = { wrappingToken: 'w', wrappingAccessor: 'wa', wrapTtlS: 60, accessor: 'a', leaseIds: [], ttlMs: 1000, expiresAtMs: 5 };
    const seen: unknown[] = [];
    const plane = {
      ...broker,
      mintWrapped: (...args: unknown[]) => {
        calls.push('mintWrapped');
        seen.push(args);
        return Promise.resolve(wrapped);
      },
    };
    const deferred = deferAuthentication(plane, () => assert.fail('no error expected'));
    assert.ok(deferred.mintWrapped);
    const minting = deferred.mintWrapped(RESOURCE, 1000, { k: 'v' }, 60);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['authenticate:start']);
    login.open();
    assert.equal(await minting, wrapped);
    assert.deepEqual(calls, ['authenticate:start', 'authenticate:end', 'mintWrapped']);
    assert.deepEqual(seen, [[RESOURCE, 1000, { k: 'v' }, 60, undefined]]);
    assert.equal(deferAuthentication(recordingBroker(() => Promise.resolve()).broker, () => undefined).mintWrapped, undefined);
  });

  it('close waits for a login in flight', async () => {
    const login = gate();
    const { broker, calls } = recordingBroker(() => login.promise);
    const deferred = deferAuthentication(broker, () => undefined);
    void deferred.authenticate();
    const closed = deferred.close();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, ['authenticate:start']);
    login.open();
    await closed;
    assert.deepEqual(calls, ['authenticate:start', 'authenticate:end', 'close']);
  });
});
