import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { canTransition, IllegalTransitionError, REQUEST_TRANSITIONS, transition } from '../../../src/daemon/gate/transitions.js';
import { openSqliteStore } from '../../../src/daemon/state/sqlite-store.js';
import type { StoredRequest } from '../../../src/daemon/state/store.js';
import { FINAL_STATUSES, type RequestStatus } from '../../../src/model/request.js';
import { LOCAL_CONTEXT } from '../../support/gate-fixture.js';

const ALL: RequestStatus[] = ['pending', 'approved', 'granted', 'released', 'denied', 'expired'];

describe('request transitions', () => {
  it('final statuses have no way out, and every other status can end', () => {
    for (const status of ALL) {
      assert.equal(REQUEST_TRANSITIONS[status].length === 0, FINAL_STATUSES.has(status), status);
    }
    // Every status is reachable from pending, and every path ends in a final status.
    const reached = new Set<RequestStatus>(['pending']);
    for (let changed = true; changed; ) {
      changed = false;
      for (const from of [...reached]) for (const to of REQUEST_TRANSITIONS[from]) if (!reached.has(to)) changed = reached.add(to).size > 0;
    }
    assert.deepEqual([...reached].sort(), [...ALL].sort());
  });

  it('a grant only follows an approval, and nothing leaves a final status', () => {
    assert.equal(canTransition('approved', 'granted'), true);
    assert.equal(canTransition('pending', 'granted'), false, 'a pending request is never granted without an approval');
    assert.equal(canTransition('denied', 'approved'), false);
    assert.equal(canTransition('expired', 'approved'), false);
    assert.equal(canTransition('released', 'granted'), false);
    assert.equal(canTransition('granted', 'denied'), false, 'a grant ends released (revoked), never re-labelled');
  });

  it('refuses an illegal move before the store sees it, and compare-and-sets a legal one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jitgate-transitions-'));
    const clock = new ManualClock(Date.now());
    const store = openSqliteStore({ path: join(dir, 'state.db'), clock });
    try {
      const request: StoredRequest = {
        id: 'req-t1',
        resource: 'demo-db',
        reason: 'test',
        context: { ...LOCAL_CONTEXT, trust: 'local', fork: false },
        claimed: {},
        ttlMs: 60_000,
        status: 'pending',
        rule: 'r',
        createdAt: clock.now(),
        expiresAt: clock.now() + 60_000,
        updatedAt: clock.now(),
      };
      await store.insertRequest(request);
      assert.throws(() => transition(store, request.id, ['pending'], { status: 'granted', updatedAt: clock.now() }), IllegalTransitionError);
      assert.throws(() => transition(store, request.id, ['denied', 'pending'], { status: 'approved', updatedAt: clock.now() }), /denied → approved/);
      assert.equal((await store.getRequest(request.id))?.status, 'pending', 'the store was never asked');
      assert.equal(await transition(store, request.id, ['pending'], { status: 'approved', updatedAt: clock.now() }), true);
      assert.equal(await transition(store, request.id, ['pending'], { status: 'denied', updatedAt: clock.now() }), false, 'no longer pending');
      assert.equal((await store.getRequest(request.id))?.status, 'approved');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
