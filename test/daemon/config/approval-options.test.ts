import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError } from '../../../src/common/errors.js';
import { parseConfig } from '../../../src/daemon/config/load-config.js';
import type { PolicyRule } from '../../../src/daemon/config/types.js';
import { describeDecision } from '../../../src/daemon/policy/explain.js';

/** A valid config whose one `require` rule gets `extra` keys. */
function withRequire(extra: Record<string, unknown>): string {
  return stringify({
    vault: { address: 'https://vault.internal:8200', auth: { token_file: 'vault-token' } },
    identity: { ci: [{ issuer: 'https://token.actions.githubusercontent.com', audience: 'jitgate' }] },
    groups: { sre: ['alice', 'bob'] },
    resources: { 'deploy-prod': { vault: { policies: ['deploy-prod'] }, env: { VAULT_TOKEN: 'token' }, ttl: '120s' } },
    policies: [
      { name: 'deploy', match: { repository: 'acme/api', resource: 'deploy-prod' }, require: { approvals: 1, from: ['group:sre'], ...extra } },
      { name: 'everything-else', decision: 'deny' },
    ],
  });
}

function rule(extra: Record<string, unknown>): Extract<PolicyRule, { decision: 'require' }> {
  const first = parseConfig(withRequire(extra), { source: 'test.yaml', baseDir: '/etc/jitgated' }).policies[0];
  assert.ok(first?.decision === 'require');
  return first;
}

function refuses(extra: Record<string, unknown>, path: string, message: RegExp): void {
  assert.throws(
    () => parseConfig(withRequire(extra), { source: 'test.yaml', baseDir: '/etc/jitgated' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.path, path);
      assert.match(err.message, message);
      return true;
    },
  );
}

describe('policy require.supersede, require.approval_scope and require.scope_ttl', () => {
  it('leave the rule as before when absent: supersede by ref (branch on, tag off), every request on its own', () => {
    const spec = rule({}).require;
    assert.equal(spec.supersede, undefined);
    assert.equal(spec.approvalScope, undefined);
    assert.equal('supersede' in spec || 'approvalScope' in spec, false, 'nothing new in the stored require');
  });

  it('take supersede true or false, approval_scope run with scope_ttl (default 30m)', () => {
    assert.equal(rule({ supersede: false }).require.supersede, false);
    assert.equal(rule({ supersede: true }).require.supersede, true);
    assert.deepEqual(rule({ approval_scope: 'run' }).require.approvalScope, { ttlMs: 30 * 60_000 });
    assert.deepEqual(rule({ approval_scope: 'run', scope_ttl: '2h' }).require.approvalScope, { ttlMs: 2 * 3_600_000 });
    assert.equal(rule({ approval_scope: 'request' }).require.approvalScope, undefined);
  });

  it('refuse wrong values, naming the key', () => {
    refuses({ supersede: 'yes' }, 'policies[0].require.supersede', /boolean/);
    refuses({ approval_scope: 'job' }, 'policies[0].require.approval_scope', /request|run/);
    refuses({ approval_scope: 'run', scope_ttl: '30' }, 'policies[0].require.scope_ttl', /invalid duration/);
    refuses({ approval_scope: 'run', scope_ttl: 30 }, 'policies[0].require.scope_ttl', /expected a duration/);
    refuses({ approval_scope: 'run', scope_ttl: '25d' }, 'policies[0].require.scope_ttl', /at most 24d/);
    refuses({ scope_ttl: '10m' }, 'policies[0].require.scope_ttl', /only with approval_scope: run/);
    refuses({ approval_scope: 'request', scope_ttl: '10m' }, 'policies[0].require.scope_ttl', /only with approval_scope: run/);
  });

  it('show in `jitgate policy explain` only when written', () => {
    const explain = (extra: Record<string, unknown>): string => describeDecision({ kind: 'require', rule: 'deploy', require: rule(extra).require });
    assert.equal(explain({}), 'REQUIRE 1 approval from group:sre, expires after 15m by rule "deploy"');
    assert.equal(
      explain({ approval_scope: 'run', scope_ttl: '10m', supersede: false }),
      'REQUIRE 1 approval from group:sre, expires after 15m; one approval covers its run for 10m; supersede off by rule "deploy"',
    );
  });
});
