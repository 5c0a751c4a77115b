import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import type { ApproverIdentity } from '../../../src/model/context.js';
import { isSameOrigin } from '../../../src/daemon/web/same-origin.js';
import { SessionStore } from '../../../src/daemon/web/session-store.js';

const carol: ApproverIdentity = { subject: 'u-carol', name: 'carol', groups: ['sre'], aliases: [], trust: 'idp' };
const approver = (n: number): ApproverIdentity => ({ ...carol, subject: `u-${String(n)}`, name: `a${String(n)}` });

describe('SessionStore', () => {
  it('expires sessions on the injected clock and gives a signed-in approver a new id', () => {
    const clock = new ManualClock();
    const store = new SessionStore({ clock, ttlMs: 60_000 });
    const first = store.signIn(undefined, carol);
    const again = store.signIn(first, carol);
    assert.notEqual(again.id, first.id);
    assert.notEqual(again.csrf, first.csrf);
    assert.equal(store.get(first.id), undefined, 'signing in again drops the browser\'s previous session');
    clock.advance(59_999);
    assert.equal(store.get(again.id)?.identity.subject, 'u-carol');
    clock.advance(1);
    assert.equal(store.get(again.id), undefined);
  });

  it('holds at most maxSessions, dropping the oldest', () => {
    const store = new SessionStore({ clock: new ManualClock(), maxSessions: 3 });
    const ids = Array.from({ length: 5 }, (_, i) => store.signIn(undefined, approver(i)).id);
    assert.equal(store.size, 3);
    assert.equal(store.get(ids[0]), undefined);
    assert.equal(store.get(ids[1]), undefined);
    assert.ok(store.get(ids[4]));
  });

  it('one approver signing in over and over displaces only their own oldest sessions', () => {
    const store = new SessionStore({ clock: new ManualClock(), maxSessions: 10, maxPerSubject: 2 });
    const others = Array.from({ length: 5 }, (_, i) => store.signIn(undefined, approver(i)).id);
    const mine = Array.from({ length: 20 }, () => store.signIn(undefined, carol).id);
    for (const id of others) assert.ok(store.get(id), 'another approver kept their session');
    assert.deepEqual(
      mine.map((id) => store.get(id) !== undefined),
      [...Array<boolean>(18).fill(false), true, true],
    );
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
