import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClaimedContext } from '../../../src/model/context.js';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { createLocalContextResolver } from '../../../src/daemon/identity/local-context-resolver.js';

const VALID: ClaimedContext = {
  repository: 'acme/api',
  ref: 'refs/heads/main',
  sha: 'abc1234',
  actor: 'alice',
  environment: 'production',
};

async function rejectsField(claimed: ClaimedContext, field: string): Promise<void> {
  await assert.rejects(createLocalContextResolver().resolve(undefined, claimed), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, String(err));
    assert.equal(err.field, field);
    return true;
  });
}

describe('local context resolver', () => {
  it('takes the asserted context, marked trust local and never a fork', async () => {
    const ctx = await createLocalContextResolver().resolve(undefined, { ...VALID, workflow: 'deploy.yml' });
    assert.deepEqual(ctx, { trust: 'local', ...VALID, workflow: 'deploy.yml', fork: false });
  });

  it('names each missing field', async () => {
    for (const field of ['repository', 'ref', 'sha', 'actor', 'environment'] as const) {
      await rejectsField({ ...VALID, [field]: undefined }, `context.${field}`);
      await rejectsField({ ...VALID, [field]: '' }, `context.${field}`);
    }
  });

  it('refuses a bare ref and a non-hex or too short sha', async () => {
    await rejectsField({ ...VALID, ref: 'main' }, 'context.ref');
    await rejectsField({ ...VALID, ref: 'refs/' }, 'context.ref');
    await rejectsField({ ...VALID, sha: 'abc12' }, 'context.sha');
    await rejectsField({ ...VALID, sha: 'zzzzzzzz' }, 'context.sha');
  });

  it('refuses control characters and newlines in any field', async () => {
    await rejectsField({ ...VALID, ref: 'refs/heads/main\nforged: yes' }, 'context.ref');
    await rejectsField({ ...VALID, actor: 'al\u0000ice' }, 'context.actor');
    await rejectsField({ ...VALID, workflow: 'a\rb' }, 'context.workflow');
  });
});
