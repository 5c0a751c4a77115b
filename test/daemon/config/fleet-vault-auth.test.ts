/**
 * `fleet.mint: plane` (issue 13): a runner's host runs untrusted builds, so its daemon must hold no
 * Vault identity; every other daemon needs one. The config check enforces both, naming the key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { checkConfigText } from '../../../src/daemon/config/check-config.js';
import { problemText } from '../../../src/daemon/config/config-problem.js';

function doc(fleet: Record<string, unknown> | undefined, auth: Record<string, unknown> | undefined): string {
  return stringify({
    listen: { socket: '/tmp/jitgate-fleet-test.sock' },
    state: { postgres: 'postgres://runner-a@db.internal/jitgate' },
    ...(fleet ? { fleet } : {}),
    vault: { address: 'https://vault.internal:8200', ...(auth ? { auth } : {}) },
    resources: { db: { vault: { policies: ['p'] }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' } },
    policies: [{ name: 'db', match: { resource: 'db', repository: 'acme/api' }, require: { approvals: 1, from: ['group:sre'] } }],
  });
}

async function vaultAuthProblems(fleet: Record<string, unknown> | undefined, auth: Record<string, unknown> | undefined): Promise<string[]> {
  const { problems } = await checkConfigText(doc(fleet, auth), { source: 'test.yaml', baseDir: '/tmp' });
  return problems.filter((p) => p.path === 'vault.auth').map(problemText);
}

describe('vault.auth under fleet.mint: plane', () => {
  it('a runner under fleet.mint: plane goes without Vault credentials', async () => {
    assert.deepEqual(await vaultAuthProblems({ node: 'runner-a', role: 'runner', mint: 'plane' }, undefined), []);
  });

  it('refuses Vault credentials on such a runner, naming vault.auth', async () => {
    const problems = await vaultAuthProblems({ node: 'runner-a', role: 'runner', mint: 'plane' }, { token_file: '/etc/jitgated/vault-token' });
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /vault\.auth.*holds no Vault credentials: remove vault\.auth/);
  });

  it('every other daemon needs them: a plane, a runner under mint: owner, a single host', async () => {
    for (const fleet of [{ node: 'p', role: 'plane', mint: 'plane' }, { node: 'r', role: 'runner', mint: 'owner' }, undefined]) {
      const problems = await vaultAuthProblems(fleet, undefined);
      assert.equal(problems.length, 1, JSON.stringify(fleet));
      assert.match(problems[0] ?? '', /vault\.auth.*set "token_file" or "approle"/);
    }
  });
});
