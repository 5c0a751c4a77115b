import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../src/common/logger.js';
import { AuditTrail } from '../../../src/daemon/audit/audit-trail.js';
import type { AppendOptions, AuditEvent, AuditLog } from '../../../src/daemon/audit/types.js';

/** Records what the trail asks of the log; appends resolve only when flushed. */
class RecordingLog implements AuditLog {
  readonly calls: string[] = [];
  readonly healthy = true;
  #held: (() => void)[] = [];

  append(event: AuditEvent, options?: AppendOptions): Promise<void> {
    this.calls.push(`append ${event.type}${options?.defer === true ? ' deferred' : ''}`);
    return new Promise((resolve) => this.#held.push(resolve));
  }

  flush(): void {
    this.calls.push('flush');
    for (const resolve of this.#held.splice(0)) resolve();
  }

  onUnhealthy(): void {}
  hmac(value: string): string {
    return value;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('audit trail: deferred appends', () => {
  it('passes { defer } to the log, and awaitAll / settled start the held writes instead of waiting out the deferral', async () => {
    const log = new RecordingLog();
    const trail = new AuditTrail(log, silentLogger());
    const created = trail.issue({ type: 'request.created' }, { defer: true });
    const intent = trail.issue({ type: 'grant.mint.intent' });
    await trail.awaitAll([created, intent]);
    const later = trail.issue({ type: 'grant.token.created' }, { defer: true });
    assert.equal(await trail.settled([later]), true);
    assert.deepEqual(log.calls, [
      'append request.created deferred',
      'append grant.mint.intent',
      'flush',
      'append grant.token.created deferred',
      'flush',
    ]);
  });
});
