import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../../src/common/errors.js';
import { parseConfig } from '../../../src/daemon/config/load-config.js';
import { contextFromJson } from '../../../src/daemon/policy/context-json.js';
import { PolicyEngine } from '../../../src/daemon/policy/engine.js';
import { formatExplanation } from '../../../src/daemon/policy/explain.js';

const CONFIG = `
vault: { address: https://vault.internal:8200, auth: { token_file: vault-token } }
resources:
  prod-db:
    vault: { policies: [jit-prod-db], read: database/creds/migrator }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
policies:
  - name: prod-db-from-main
    match: { repository: acme/api, repository_id: 42, ref: refs/heads/main, environment: production, resource: prod-db }
    require: { approvals: 2, from: [group:sre, group:dba], expires_after: 15m, escalate: [{ after: 5m, to: [group:sre-oncall] }] }
  - name: staging
    match: { environment: staging, repository: "acme/*" }
    decision: auto-approve
`;

describe('formatExplanation', () => {
  const engine = new PolicyEngine(parseConfig(CONFIG, { source: 'test.yaml', baseDir: '/etc/jitgated' }).policies);

  it('names the deciding rule and its requirement', () => {
    const context = contextFromJson({ repository: 'acme/api', repository_id: 42, ref: 'refs/heads/main', environment: 'production' });
    const text = formatExplanation('prod-db', context, engine.explain('prod-db', context));
    assert.match(text, /^request: resource "prod-db" \(trust: local\)$/m);
    assert.match(text, /^ {2}repository_id: "42"$/m);
    assert.match(text, /^ {2}✓ prod-db-from-main: matches$/m);
    assert.match(
      text,
      /^decision: REQUIRE 2 approvals from group:sre, group:dba, expires after 15m; after 5m also group:sre-oncall by rule "prod-db-from-main"$/m,
    );
  });

  it('lists why each earlier rule did not match, and the default deny', () => {
    const context = contextFromJson({ repository: 'acme/api', repositoryId: '42', ref: 'refs/tags/main', environment: 'production' });
    const text = formatExplanation('prod-db', context, engine.explain('prod-db', context));
    assert.match(text, /^ {2}✗ prod-db-from-main$/m);
    assert.match(text, /^ {6}ref: "refs\/tags\/main" does not match "refs\/heads\/main"$/m);
    assert.match(text, /^ {6}environment: "production" does not match "staging"$/m);
    assert.match(text, /^decision: DENY: no policy rule matched$/m);
  });
});

describe('contextFromJson', () => {
  it('accepts snake_case and camelCase, defaults trust to local and fork to false', () => {
    const context = contextFromJson({
      repository: 'acme/api',
      repository_id: 42,
      refType: 'branch',
      ref: 'refs/heads/main',
      runner_environment: 'self-hosted',
      actor: 'carol',
    });
    assert.deepEqual(context, {
      trust: 'local',
      fork: false,
      sha: '',
      actor: 'carol',
      environment: '',
      repository: 'acme/api',
      repositoryId: '42',
      refType: 'branch',
      ref: 'refs/heads/main',
      runnerEnvironment: 'self-hosted',
    });
    assert.equal(contextFromJson({ repository: 'a/b', ref: 'refs/heads/x', trust: 'oidc', fork: true }).trust, 'oidc');
  });

  it('throws InvalidArgumentError naming the field', () => {
    const cases: [unknown, string, RegExp][] = [
      [[], 'context', /must be a JSON object/],
      [{ ref: 'refs/heads/main' }, 'repository', /is required/],
      [{ repository: 'a/b' }, 'ref', /is required/],
      [{ repository: 'a/b', ref: 'main' }, 'ref', /not a full ref/],
      [{ repository: 'a/b', ref: 'refs/heads/main', enviroment: 'production' }, 'enviroment', /unknown context field/],
      [{ repository: 'a/b', ref: 'refs/heads/main', fork: 'yes' }, 'fork', /true or false/],
      [{ repository: 'a/b', ref: 'refs/heads/main', trust: 'root' }, 'trust', /"local" or "oidc"/],
      [{ repository: 'a/b', ref: 'refs/heads/main', actor: 7 }, 'actor', /must be a string/],
      [{ repository: 'a/b', ref: 'refs/heads/main', repository_id: -1 }, 'repository_id', /non-negative integer/],
      [{ repository: 'a/b', ref: 'refs/heads/main', ref_type: 'tag', refType: 'branch' }, 'refType', /given twice/],
    ];
    for (const [json, field, message] of cases) {
      assert.throws(
        () => contextFromJson(json),
        (err: unknown) => err instanceof InvalidArgumentError && err.field === field && message.test(err.message),
        `${JSON.stringify(json)} → ${field}`,
      );
    }
  });
});
