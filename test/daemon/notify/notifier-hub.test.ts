import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { silentLogger } from '../../../src/common/logger.js';
import type { RequestView } from '../../../src/model/request.js';
import type { Notifier, NotifyEvent } from '../../../src/daemon/notify/notifier.js';
import { NotifierHub } from '../../../src/daemon/notify/notifier-hub.js';
import { MemoryAuditLog, advanceUntil, waitFor } from './notify-fixture.js';

function view(id: string): RequestView {
  return {
    id,
    resource: 'demo-db',
    reason: 'migrate',
    context: { trust: 'local', repository: 'acme/api', ref: 'refs/heads/main', sha: 'a'.repeat(40), actor: 'alice', environment: 'production', fork: false },
    ttlMs: 60_000,
    status: 'pending',
    rule: 'r',
    approvalsRequired: 1,
    approvers: ['group:sre'],
    approvals: [],
    createdAt: 0,
    expiresAt: 0,
  };
}

const event = (id: string): NotifyEvent => ({ type: 'created', request: view(id) });

/** Delivers when released one at a time; records the order. */
class GatedNotifier implements Notifier {
  readonly delivered: string[] = [];
  readonly #waiting: (() => void)[] = [];
  constructor(readonly name: string) {}
  accepts(): boolean {
    return true;
  }
  deliver(e: NotifyEvent): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.delivered.push(e.request.id);
        resolve();
      });
    });
  }
  release(): boolean {
    const next = this.#waiting.shift();
    next?.();
    return next !== undefined;
  }
}

describe('notifier hub', () => {
  it('drops the oldest queued event when a notifier falls behind, and keeps the newest', async () => {
    const clock = new ManualClock();
    const audit = new MemoryAuditLog();
    const slow = new GatedNotifier('slow');
    const hub = new NotifierHub({ notifiers: [slow], audit, clock, logger: silentLogger(), tuning: { queueSize: 2 } });
    for (const id of ['req_a', 'req_b', 'req_c', 'req_d']) hub.enqueue(event(id));
    // req_a is in flight; of b, c, d only the newest two fit.
    for (let i = 0; i < 3; i++) {
      await waitFor(() => slow.release(), `delivery ${i + 1}`);
    }
    await waitFor(() => slow.delivered.length === 3, 'three deliveries');
    assert.deepEqual(slow.delivered, ['req_a', 'req_c', 'req_d']);
    await hub.close();
  });

  it('retries with exponential backoff on the injected clock, gives up after the last attempt, and audits each try without secrets', async () => {
    const clock = new ManualClock();
    const audit = new MemoryAuditLog();
    const failing: Notifier = {
      name: 'failing',
      accepts: () => true,
      deliver: () => Promise.reject(new Error('upstream said: token s3cr3t-value rejected')),
    };
    const hub = new NotifierHub({
      notifiers: [failing],
      audit,
      clock,
      logger: silentLogger(),
      secrets: ['s3cr3t-value'],
      tuning: { attempts: 3, baseBackoffMs: 1000 },
    });
    hub.enqueue(event('req_x'));
    await waitFor(() => audit.events.length === 1, 'the first attempt');
    const start = clock.monotonic();
    await advanceUntil(clock, () => audit.events.length === 3, 'the last attempt', 100);
    // 1s then 2s between attempts, measured on the manual clock.
    assert.ok(clock.monotonic() - start >= 3000);
    assert.deepEqual(
      audit.events.map((e) => [e.type, e.attempt, e.ok]),
      [
        ['notify.delivery', 1, false],
        ['notify.delivery', 2, false],
        ['notify.delivery', 3, false],
      ],
    );
    assert.ok(audit.events.every((e) => !JSON.stringify(e).includes('s3cr3t-value')));
    assert.match(String(audit.events[0]?.error), /\[REDACTED\]/);
    clock.advance(600_000);
    assert.equal(audit.events.length, 3, 'no attempt after the last');
    await hub.close();
  });

  it('times out a hung attempt on the injected clock and moves on', async () => {
    const clock = new ManualClock();
    const audit = new MemoryAuditLog();
    let calls = 0;
    const hangsOnce: Notifier = {
      name: 'hangs-once',
      accepts: () => true,
      deliver: (_e, signal) => {
        calls++;
        if (calls > 1) return Promise.resolve();
        return new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            reject(new Error('aborted'));
          });
        });
      },
    };
    const hub = new NotifierHub({ notifiers: [hangsOnce], audit, clock, logger: silentLogger(), tuning: { attemptTimeoutMs: 10_000, baseBackoffMs: 1000 } });
    hub.enqueue(event('req_h'));
    await waitFor(() => calls === 1, 'the first attempt');
    await advanceUntil(clock, () => audit.events.length === 2, 'the retry', 1000);
    assert.deepEqual(
      audit.events.map((e) => [e.attempt, e.ok, e.error]),
      [
        [1, false, 'timed out'],
        [2, true, undefined],
      ],
    );
    await hub.close();
  });
});
