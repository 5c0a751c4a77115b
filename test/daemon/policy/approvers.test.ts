import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApproverIdentity } from '../../../src/model/context.js';
import { approverAllowed } from '../../../src/daemon/policy/approvers.js';

const bob: ApproverIdentity = {
  subject: 'idp|1234',
  name: 'bob',
  groups: ['sre', 'oncall'],
  aliases: ['bob-gh'],
  trust: 'idp',
};

describe('approverAllowed', () => {
  it('allows a member of a listed group', () => {
    assert.equal(approverAllowed(['group:dba', 'group:sre'], bob), true);
    assert.equal(approverAllowed(['group:dba'], bob), false);
  });

  it('allows a listed user by subject or by name', () => {
    assert.equal(approverAllowed(['user:bob'], bob), true);
    assert.equal(approverAllowed(['user:idp|1234'], bob), true);
    assert.equal(approverAllowed(['user:alice'], bob), false);
  });

  it('does not grant rights through aliases, bare names or the wrong principal kind', () => {
    assert.equal(approverAllowed(['user:bob-gh'], bob), false);
    assert.equal(approverAllowed(['bob', 'sre'], bob), false);
    assert.equal(approverAllowed(['user:sre'], bob), false);
    assert.equal(approverAllowed(['group:bob'], bob), false);
    assert.equal(approverAllowed(['group:', 'user:'], { ...bob, name: '', groups: [''] }), false);
    assert.equal(approverAllowed([], bob), false);
  });
});
