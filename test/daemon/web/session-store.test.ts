import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import type { ApproverIdentity } from '../../../src/model/context.js';
import { isSameOrigin } from '../../../src/daemon/web/same-origin.js';
import { SessionStore } from '../../../src/daemon/web/session-store.js';

const carol: ApproverIdentity = { subject: 'u-carol', name: 'carol', groups: ['sre'], aliases: [], trust: 'idp' };
const login = { state: 's', nonce: 'n', verifier: 'v', returnTo: '/' };

describe('SessionStore', () => {
  it('expires sessions on the injected clock and gives a signed-in approver a new id', () => {
    const clock = new ManualClock();
    const store = new SessionStore({ clock, ttlMs: 60_000, loginTtlMs: 10_000 });
    const pending = store.startLogin(login);
    clock.advance(9_999);
    assert.equal(store.get(pending.id), pending);
    const signedIn = store.signIn(pending, carol);
    assert.notEqual(signedIn.id, pending.id);
    assert.notEqual(signedIn.csrf, pending.csrf);
    assert.equal(store.get(pending.id), undefined);
    clock.advance(59_999);
    assert.equal(store.get(signedIn.id)?.identity?.subject, 'u-carol');
    clock.advance(1);
    assert.equal(store.get(signedIn.id), undefined);
  });

  it('holds at most maxSessions, dropping the oldest', () => {
    const store = new SessionStore({ clock: new ManualClock(), maxSessions: 3 });
    const ids = Array.from({ length: 5 }, () => store.startLogin(login).id);
    assert.equal(store.size, 3);
    assert.equal(store.get(ids[0]), undefined);
    assert.equal(store.get(ids[1]), undefined);
    assert.ok(store.get(ids[4]));
  });
});

describe('isSameOrigin', () => {
  const own = 'https://jit.example';
  it('trusts Origin when it names an origin, and fetch metadata when Origin is absent or null', () => {
    assert.equal(isSameOrigin({ origin: own }, own), true);
    assert.equal(isSameOrigin({ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }, own), false);
    assert.equal(isSameOrigin({ origin: 'null', 'sec-fetch-site': 'same-origin' }, own), true);
    assert.equal(isSameOrigin({ origin: 'null', 'sec-fetch-site': 'cross-site' }, own), false);
    assert.equal(isSameOrigin({ origin: 'null' }, own), false);
    assert.equal(isSameOrigin({ 'sec-fetch-site': 'same-site' }, own), false);
    assert.equal(isSameOrigin({}, own), false);
  });
});
