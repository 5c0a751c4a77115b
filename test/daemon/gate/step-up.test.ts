import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceConfig } from '../../../src/daemon/config/types.js';
import { stepUpRefusal } from '../../../src/daemon/gate/step-up.js';
import type { ApproverIdentity } from '../../../src/model/context.js';

const NOW = Date.UTC(2026, 11, 3, 12);
const RESOURCE: ResourceConfig = { name: 'prod-db', vault: { policies: ['p'] }, env: {}, ttlMs: 60_000, maxTtlMs: 60_000, excessTtl: 'clamp', stepUp: { maxAgeMs: 300_000 } };
const who = (trust: ApproverIdentity['trust'], authTime?: number): ApproverIdentity => ({
  subject: 'u-carol',
  name: 'carol',
  groups: ['sre'],
  aliases: [],
  trust,
  ...(authTime !== undefined && { authTime }),
});

describe('step-up', () => {
  it('lets any approver through for a resource without step_up', () => {
    assert.equal(stepUpRefusal({ name: 'dev-db', vault: { policies: ['p'] }, env: {}, ttlMs: 60_000, maxTtlMs: 60_000, excessTtl: 'clamp' }, who('slack'), NOW), undefined);
  });

  it('refuses Slack, webhook and local approvers, and an IdP approver without auth_time', () => {
    for (const approver of [who('slack'), who('webhook'), who('local', NOW), who('idp')]) {
      assert.equal(stepUpRefusal(RESOURCE, approver, NOW)?.code, 'STEP_UP_REQUIRED', approver.trust);
    }
  });

  it('takes an IdP sign-in up to max_age old, and refuses an older one saying how old', () => {
    assert.equal(stepUpRefusal(RESOURCE, who('idp', NOW - 300_000), NOW), undefined);
    const stale = stepUpRefusal(RESOURCE, who('idp', NOW - 301_000), NOW);
    assert.ok(stale);
    assert.equal(stale.code, 'STEP_UP_REQUIRED');
    assert.match(stale.reason, /your sign-in is 5m1s old/);
  });
});
