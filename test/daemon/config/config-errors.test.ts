import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { ConfigError } from '../../../src/common/errors.js';
import { parseConfig } from '../../../src/daemon/config/load-config.js';

type Doc = Record<string, unknown>;

/** A small valid config; each case changes one thing. */
function base(): Doc {
  return {
    vault: { address: 'https://vault.internal:8200', auth: { token_file: 'vault-token' } },
    identity: { ci: [{ issuer: 'https://token.actions.githubusercontent.com', audience: 'jitgate' }] },
    groups: { sre: ['alice', 'bob'] },
    resources: {
      'prod-db': {
        vault: { policies: ['jit-prod-db'], read: 'database/creds/migrator' },
        env: { PGUSER: 'username', PGPASSWORD: 'password' },
        ttl: '60s',
        max_ttl: '300s',
      },
      'deploy-prod': { vault: { policies: ['deploy-prod'] }, env: { VAULT_TOKEN: 'token' }, ttl: '120s' },
    },
    policies: [
      {
        name: 'prod-db-from-main',
        match: { repository: 'acme/api', ref: 'refs/heads/main', environment: 'production', resource: 'prod-db' },
        require: { approvals: 2, from: ['group:sre'] },
      },
      { name: 'staging', match: { environment: 'staging' }, decision: 'auto-approve' },
      { name: 'everything-else', decision: 'deny' },
    ],
  };
}

function parse(doc: Doc | string) {
  return parseConfig(typeof doc === 'string' ? doc : stringify(doc), { source: 'test.yaml', baseDir: '/etc/jitgated' });
}

/** Applies `edit` to a fresh base config and expects a ConfigError at exactly `path` whose message matches. */
function refuses(edit: (doc: Doc & { policies: Doc[]; resources: Record<string, Doc> }) => unknown, path: string, message: RegExp): void {
  const doc = base() as Doc & { policies: Doc[]; resources: Record<string, Doc> };
  edit(doc);
  assert.throws(
    () => parse(doc),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.equal(err.path, path);
      assert.match(err.message, message);
      assert.ok(err.message.startsWith(`${path}: `), err.message);
      return true;
    },
  );
}

/** Sets (or with `undefined` removes) the value at `path`; returns `target` so edits read as expressions. */
function set(target: unknown, path: (string | number)[], value: unknown): unknown {
  let node = target as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last === undefined) throw new Error('empty path');
  if (value === undefined) Reflect.deleteProperty(node, last);
  else node[last] = value;
  return target;
}

describe('parseConfig refuses invalid files, naming the key path', () => {
  it('accepts the base config used below', () => {
    assert.equal(parse(base()).policies.length, 3);
  });

  it('unknown keys, at top level and nested', () => {
    refuses((d) => set(d, ['listn'], { socket: '/x' }), 'listn', /unknown key \(expected one of: listen, state, fleet, audit, vault,/);
    refuses((d) => set(d, ['resources', 'prod-db', 'tll'], '60s'), 'resources.prod-db.tll', /unknown key .*ttl, max_ttl/);
    refuses((d) => set(d, ['policies', 0, 'match', 'branch'], 'main'), 'policies[0].match.branch', /unknown key/);
  });

  it('bad durations', () => {
    refuses((d) => set(d, ['resources', 'prod-db', 'ttl'], '60'), 'resources.prod-db.ttl', /invalid duration "60"/);
    refuses((d) => set(d, ['resources', 'prod-db', 'ttl'], 60), 'resources.prod-db.ttl', /expected a duration such as "60s"/);
    refuses((d) => set(d, ['policies', 0, 'require', 'expires_after'], '15 minutes'), 'policies[0].require.expires_after', /invalid duration/);
    refuses((d) => set(d, ['stop_timeout'], '0s'), 'stop_timeout', /must be positive/);
  });

  it('wrong types and missing required keys', () => {
    refuses((d) => set(d, ['audit'], { checkpoint_every: 'many' }), 'audit.checkpoint_every', /expected number, received string/);
    refuses((d) => set(d, ['limits'], { max_pending_requests: 0 }), 'limits.max_pending_requests', /at least 1/);
    refuses((d) => set(d, ['identity', 'local'], { context: 'yes' }), 'identity.local.context', /expected boolean/);
    refuses((d) => set(d, ['resources', 'prod-db', 'vault', 'policies'], 'jit-prod-db'), 'resources.prod-db.vault.policies', /expected array/);
    refuses((d) => set(d, ['vault'], undefined), 'vault', /is required/);
    refuses((d) => set(d, ['log'], { level: 'verbose' }), 'log.level', /.+/);
    refuses((d) => set(d, ['listen'], { socket_mode: 660 }), 'listen.socket_mode', /quoted string such as "0660"/);
    refuses((d) => set(d, ['listen'], { tcp: { address: 'localhost', tls: { cert_file: 'c', key_file: 'k' } } }), 'listen.tcp.address', /host:port/);
    refuses((d) => set(d, ['vault', 'address'], 'vault.internal'), 'vault.address', /https or http URL/);
    refuses((d) => set(d, ['policies', 0, 'decision'], 'require'), 'policies[0].decision', /.+/);
    refuses((d) => set(d, ['policies', 0, 'match', 'actor'], 7), 'policies[0].match.actor', /expected a string or a list of strings/);
  });

  it('a policy naming an unknown resource', () => {
    refuses(
      (d) => set(d, ['policies', 1, 'match', 'resource'], 'prod-dbb'),
      'policies[1].match.resource',
      /^policies\[1\]\.match\.resource: unknown resource "prod-dbb" \(known: prod-db, deploy-prod\)$/,
    );
    refuses((d) => set(d, ['policies', 1, 'match', 'resource'], ['prod-db', 'nope']), 'policies[1].match.resource[1]', /unknown resource "nope"/);
    refuses((d) => set(d, ['policies', 1, 'match', 'resource'], 'stage-*'), 'policies[1].match.resource', /pattern "stage-\*" matches no resource/);
  });

  it('an env entry naming a data key when the resource has no read', () => {
    refuses(
      (d) => set(d, ['resources', 'deploy-prod', 'env', 'PGUSER'], 'username'),
      'resources.deploy-prod.env.PGUSER',
      /data key "username" needs vault\.read/,
    );
  });

  it('inline secrets', () => {
    refuses((d) => set(d, ['vault', 'auth'], { token: 'hvs.secret' }), 'vault.auth.token', /inline secrets are not allowed.*"token_file"/);
    refuses(
      (d) => set(d, ['vault', 'auth'], { approle: { role_id_file: 'r', secret_id: 's3cr3t' } }),
      'vault.auth.approle.secret_id',
      /inline secrets are not allowed.*"secret_id_file"/,
    );
    refuses((d) => set(d, ['notifiers'], [{ slack: { token: 'xoxb-1', channel: '#d' } }]), 'notifiers[0].slack.token', /inline secrets/);
    refuses((d) => set(d, ['state'], { postgres: 'postgres://jit:hunter2@db/jit' }), 'state.postgres', /holds a password.*password_file/);
    // The secret itself never reaches the message.
    assert.throws(
      () => parse({ ...base(), vault: { address: 'https://v:8200', auth: { token: 'hvs.TOPSECRET' } } }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('TOPSECRET'),
    );
    assert.throws(
      () => parse({ ...base(), state: { postgres: 'postgres://jit:TOPSECRET@db/jit' } }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes('TOPSECRET'),
    );
  });

  it('a YAML syntax error names the line', () => {
    assert.throws(
      () => parse('vault:\n  address: https://v:8200\n  auth: { token_file: x\nresources: {}\n'),
      (err: unknown) => err instanceof ConfigError && /^test\.yaml: YAML syntax error at line \d+, column \d+/.test(err.message),
    );
    assert.throws(
      () => parse('vault: {}\nvault: {}\n'),
      (err: unknown) => err instanceof ConfigError && /line 2, column 1/.test(err.message),
    );
    assert.throws(() => parse('- a\n- b\n'), (err: unknown) => err instanceof ConfigError && /must be a YAML mapping/.test(err.message));
  });

  it('refs must be full refs', () => {
    refuses(
      (d) => set(d, ['policies', 0, 'match', 'ref'], 'main'),
      'policies[0].match.ref',
      /"main" is not a full ref.*refs\/heads\/main for a branch or refs\/tags\/main for a tag/,
    );
    refuses((d) => set(d, ['policies', 0, 'match', 'ref'], ['refs/heads/main', 'release/*']), 'policies[0].match.ref[1]', /not a full ref/);
  });

  it('repository_id must be numeric', () => {
    refuses((d) => set(d, ['policies', 0, 'match', 'repository_id'], 'acme/api'), 'policies[0].match.repository_id', /not a numeric id/);
  });

  it('approver principals, counts and escalation timing', () => {
    refuses((d) => set(d, ['policies', 0, 'require', 'from'], ['sre']), 'policies[0].require.from[0]', /"group:NAME" or "user:NAME"/);
    refuses((d) => set(d, ['policies', 0, 'require', 'approvals'], 0), 'policies[0].require.approvals', /at least 1/);
    refuses(
      (d) => set(d, ['policies', 0, 'require', 'from'], ['user:alice', 'user:alice']),
      'policies[0].require.approvals',
      /needs 2 approvals but only 1 person can approve/,
    );
    refuses(
      (d) => set(d, ['policies', 0, 'require', 'escalate'], [{ after: '20m', to: ['group:oncall'] }]),
      'policies[0].require.escalate[0].after',
      /shorter than expires_after/,
    );
    // Groups are not counted, and escalation may add approvers later.
    const grouped = base() as { policies: Doc[] };
    set(grouped, ['policies', 0, 'require'], { approvals: 5, from: ['group:sre'] });
    assert.equal(parse(grouped as Doc).policies[0]?.decision, 'require');
    set(grouped, ['policies', 0, 'require'], { approvals: 2, from: ['user:alice'], escalate: [{ after: '5m', to: ['user:bob'] }] });
    assert.equal(parse(grouped as Doc).policies[0]?.decision, 'require');
  });

  it('exactly one of decision/require, and unique rule names', () => {
    refuses((d) => set(d, ['policies', 1, 'require'], { approvals: 1, from: ['group:sre'] }), 'policies[1]', /exactly one of "decision".*"require"/);
    refuses((d) => set(d, ['policies', 2, 'decision'], undefined), 'policies[2]', /exactly one of/);
    refuses((d) => set(d, ['policies', 2, 'name'], 'staging'), 'policies[2].name', /duplicate rule name "staging" \(also policies\[1\]\)/);
  });

  it('refuses a granting rule that could match production without a repository constraint', () => {
    refuses(
      (d) => set(d, ['policies', 0, 'match', 'repository'], undefined),
      'policies[0].match',
      /rule "prod-db-from-main" can grant access for environment "production" to any repository/,
    );
    refuses((d) => set(d, ['policies', 1, 'match'], { environment: 'prod*' }), 'policies[1].match', /"production" to any repository/);
    refuses((d) => set(d, ['policies', 1, 'match'], { resource: 'deploy-prod' }), 'policies[1].match', /"production"/);
    refuses((d) => set(d, ['policies', 1, 'match'], undefined), 'policies[1]', /"production"/);
    // Pinned by id, limited to another environment, or a deny: all fine.
    const ok = base() as { policies: Doc[] };
    set(ok, ['policies', 0, 'match', 'repository'], undefined);
    set(ok, ['policies', 0, 'match', 'repository_id'], 42);
    set(ok, ['policies', 1, 'match'], { environment: ['staging', 'dev-*'] });
    set(ok, ['policies', 2, 'match'], { environment: 'production' });
    const config = parse(ok);
    assert.deepEqual(config.policies[0]?.match.repositoryId, ['42']);
  });

  it("refuses GitHub's default owner-URL audience, with the reason", () => {
    for (const audience of ['https://github.com/acme', 'https://GitHub.com/acme/']) {
      refuses(
        (d) => set(d, ['identity', 'ci', 0, 'audience'], audience),
        'identity.ci[0].audience',
        /GitHub's default audience .*use a jitgate-specific value/,
      );
    }
  });

  it('refuses alg none and HS* and an overlong leeway', () => {
    refuses((d) => set(d, ['identity', 'ci', 0, 'algorithms'], ['none']), 'identity.ci[0].algorithms[0]', /"none" refused: unsigned tokens/);
    refuses((d) => set(d, ['identity', 'ci', 0, 'algorithms'], ['RS256', 'HS256']), 'identity.ci[0].algorithms[1]', /"HS256" refused: symmetric/);
    refuses((d) => set(d, ['identity', 'ci', 0, 'leeway'], '6m'), 'identity.ci[0].leeway', /at most 5m/);
    refuses((d) => set(d, ['identity', 'ci', 0, 'issuer'], 'http://issuer.example.com'), 'identity.ci[0].issuer', /https URL/);
    refuses((d) => set(d, ['identity', 'ci', 0, 'claims'], { repo: 'project' }), 'identity.ci[0].claims.repo', /unknown context field/);
  });

  it('resource names, env names, TTLs and policies', () => {
    refuses((d) => set(d, ['resources', 'Prod_DB'], d.resources['deploy-prod']), 'resources.Prod_DB', /resource names/);
    refuses((d) => set(d, ['resources', 'prod-db', 'env', 'pguser'], 'username'), 'resources.prod-db.env.pguser', /environment variable names/);
    refuses((d) => set(d, ['resources', 'prod-db', 'env'], {}), 'resources.prod-db.env', /at least one environment variable/);
    refuses((d) => set(d, ['resources', 'prod-db', 'max_ttl'], '30s'), 'resources.prod-db.max_ttl', /not be shorter than ttl/);
    refuses((d) => set(d, ['resources', 'prod-db', 'ttl'], '500ms'), 'resources.prod-db.ttl', /at least 1s/);
    refuses((d) => set(d, ['resources', 'prod-db', 'excess_ttl'], 'extend'), 'resources.prod-db.excess_ttl', /.+/);
    refuses((d) => set(d, ['resources', 'deploy-prod', 'vault', 'policies'], ['root']), 'resources.deploy-prod.vault.policies[0]', /"root"/);
    refuses((d) => set(d, ['resources', 'prod-db', 'vault', 'read'], '/database/creds/x'), 'resources.prod-db.vault.read', /Vault path/);
  });

  it('state and vault auth must name exactly one kind', () => {
    refuses((d) => set(d, ['state'], { sqlite: 'a.db', postgres: 'postgres://db/jit' }), 'state', /exactly one of "sqlite".*"postgres"/);
    refuses((d) => set(d, ['state'], {}), 'state', /exactly one/);
    refuses((d) => set(d, ['vault', 'auth'], {}), 'vault.auth', /exactly one of "token_file" or "approle"/);
  });
});
