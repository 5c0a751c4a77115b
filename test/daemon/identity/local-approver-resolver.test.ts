import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdentityError } from '../../../src/common/errors.js';
import { createLocalApproverResolver } from '../../../src/daemon/identity/local-approver-resolver.js';

const GROUPS = { sre: ['bob', 'carol'], dba: ['bob'], release: ['dave'] };

describe('local approver resolver', () => {
  it('names the approver from x-jitgate-approver with groups from static config', async () => {
    const id = await createLocalApproverResolver(GROUPS).resolve({ 'x-jitgate-approver': 'bob' });
    assert.deepEqual(id, { subject: 'bob', name: 'bob', groups: ['dba', 'sre'], aliases: ['bob'], trust: 'local' });
    const loner = await createLocalApproverResolver(GROUPS).resolve({ 'x-jitgate-approver': 'erin.x_1-2' });
    assert.deepEqual(loner.groups, []);
  });

  it('refuses a missing or malformed name', async () => {
    const r = createLocalApproverResolver(GROUPS);
    await assert.rejects(r.resolve({}), IdentityError);
    await assert.rejects(r.resolve({ 'x-jitgate-approver': '' }), IdentityError);
    for (const bad of ['bob smith', 'bob\n', 'a'.repeat(65), 'group:sre']) {
      await assert.rejects(r.resolve({ 'x-jitgate-approver': bad }), IdentityError);
    }
  });
});
