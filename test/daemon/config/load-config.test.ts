import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/common/errors.js';
import { loadConfig, parseConfig } from '../../../src/daemon/config/load-config.js';

/** Name-keyed config tables (resources, groups, env, claims) have no prototype (security 15). */
const table = <T>(entries: Record<string, T>): Record<string, T> => Object.assign(Object.create(null) as Record<string, T>, entries);

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The configuration example from BRIEF.md, verbatim apart from the elided secret file names. */
const BRIEF_EXAMPLE = `
listen: { socket: /run/jitgated/jitgated.sock }
state: { sqlite: /var/lib/jitgated/state.db }       # or { postgres: postgres://... } for a fleet
audit: { file: /var/lib/jitgated/audit.jsonl }
vault: { address: https://vault.internal:8200, auth: { approle: { role_id_file: role-id, secret_id_file: secret-id } } }
identity:
  ci:
    - issuer: https://token.actions.githubusercontent.com
      audience: jitgate
  approvers:
    issuer: https://idp.example.com
    audience: jitgate
    groups_claim: groups
resources:
  prod-db:
    vault: { policies: [jit-prod-db], read: database/creds/migrator }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
    max_ttl: 300s
  deploy-prod:
    vault: { policies: [deploy-prod] }               # the step gets the child token itself
    env: { VAULT_TOKEN: token }
    ttl: 120s
notifiers:
  - slack: { token_file: slack-token, channel: "#deploys", signing_secret_file: /etc/jitgated/slack-signing }
  - webhook: { url: https://hooks.internal/jit, secret_file: webhook-secret }
policies:
  - name: prod-db-from-main
    match: { repository: acme/api, ref: refs/heads/main, environment: production, resource: prod-db }
    require: { approvals: 2, from: [group:sre, group:dba], expires_after: 15m,
               escalate: [{ after: 5m, to: [group:sre-oncall] }] }
  - name: staging
    match: { environment: staging }
    decision: auto-approve
  - name: everything-else
    decision: deny
`;

describe('parseConfig', () => {
  it('maps the brief example onto the Config type, durations in ms, relative paths resolved', () => {
    const config = parseConfig(BRIEF_EXAMPLE, { source: 'brief.yaml', baseDir: '/etc/jitgated' });
    assert.deepEqual(config.listen, { socket: '/run/jitgated/jitgated.sock', socketMode: 0o660 });
    assert.deepEqual(config.state, { kind: 'sqlite', path: '/var/lib/jitgated/state.db' });
    assert.deepEqual(config.audit, {
      file: '/var/lib/jitgated/audit.jsonl',
      signingKeyFile: '/var/lib/jitgated/audit-signing.key',
      hmacKeyFile: '/var/lib/jitgated/audit-hmac.key',
      checkpointEvery: 100,
      fsync: true,
    });
    assert.deepEqual(config.vault, {
      address: 'https://vault.internal:8200',
      auth: { kind: 'approle', roleIdFile: '/etc/jitgated/role-id', secretIdFile: '/etc/jitgated/secret-id', mount: 'approle' },
      timeoutMs: 5000,
      mintAttempts: 3,
      revokeAttempts: 5,
    });
    assert.deepEqual(config.identity, {
      localContext: false,
      localApprovers: false,
      ci: [
        {
          issuer: 'https://token.actions.githubusercontent.com',
          audience: 'jitgate',
          kind: 'github',
          algorithms: ['RS256', 'ES256'],
          leewayMs: 30_000,
          maxTokenAgeMs: 900_000,
          claims: table({}),
        },
      ],
      approvers: { issuer: 'https://idp.example.com', audience: 'jitgate', groupsClaim: 'groups' },
    });
    assert.deepEqual(config.resources['prod-db'], {
      name: 'prod-db',
      vault: { policies: ['jit-prod-db'], read: 'database/creds/migrator' },
      env: table({ PGUSER: 'username', PGPASSWORD: 'password' }),
      ttlMs: 60_000,
      maxTtlMs: 300_000,
      excessTtl: 'clamp',
    });
    assert.equal(config.resources['deploy-prod']?.maxTtlMs, 120_000, 'max_ttl defaults to ttl');
    assert.deepEqual(config.policies, [
      {
        name: 'prod-db-from-main',
        match: { repository: ['acme/api'], ref: ['refs/heads/main'], environment: ['production'], resource: ['prod-db'] },
        decision: 'require',
        require: {
          approvals: 2,
          from: ['group:sre', 'group:dba'],
          everyGroup: false,
          expiresAfterMs: 900_000,
          escalate: [{ afterMs: 300_000, to: ['group:sre-oncall'] }],
        },
      },
      { name: 'staging', match: { environment: ['staging'] }, decision: 'auto-approve' },
      { name: 'everything-else', match: {}, decision: 'deny' },
    ]);
    assert.deepEqual(config.notifiers, [
      { slack: { token_file: '/etc/jitgated/slack-token', channel: '#deploys', signing_secret_file: '/etc/jitgated/slack-signing' } },
      { webhook: { url: 'https://hooks.internal/jit', secret_file: '/etc/jitgated/webhook-secret' } },
    ]);
    assert.deepEqual(config.limits, {
      maxPendingRequests: 10_000,
      pendingPerRepository: 20,
      pendingPerActor: 10,
      maxMessageBytes: 65_536,
      maxMetadataBytes: 8192,
      defaultRpcDeadlineMs: 30_000,
    });
    assert.deepEqual(config.log, { level: 'info', format: 'auto' });
    assert.equal(config.stopTimeoutMs, 10_000);
    assert.deepEqual(config.groups, table({}));
  });

  it('vault.token_role: absent by default; a name that is not one path segment is refused naming the key', () => {
    assert.equal(parseConfig(BRIEF_EXAMPLE, { source: 'brief.yaml', baseDir: '/etc/jitgated' }).vault.tokenRole, undefined);
    const withRole = (role: string): string =>
      BRIEF_EXAMPLE.replace('vault: { address: https://vault.internal:8200,', `vault: { address: https://vault.internal:8200, token_role: ${JSON.stringify(role)},`);
    assert.equal(parseConfig(withRole('jit.gated-1'), { source: 'brief.yaml', baseDir: '/etc/jitgated' }).vault.tokenRole, 'jit.gated-1');
    for (const bad of ['../sys', 'a/b', '']) {
      assert.throws(
        () => parseConfig(withRole(bad), { source: 'brief.yaml', baseDir: '/etc/jitgated' }),
        (err: unknown) => err instanceof ConfigError && /vault\.token_role: must be a Vault token role name/.test(err.message),
      );
    }
  });

  it('returns a deep-frozen object', () => {
    const config = parseConfig(BRIEF_EXAMPLE, { source: 'brief.yaml', baseDir: '/etc/jitgated' });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.policies[0]?.match.ref));
    assert.ok(Object.isFrozen(config.resources['prod-db']?.env));
    assert.ok(Object.isFrozen(config.notifiers[0]));
    assert.throws(() => {
      (config.policies as unknown as unknown[]).push({});
    }, TypeError);
  });

  it('reads the remaining keys: tcp, postgres, token auth, local identity, generic issuer, groups, limits', () => {
    const config = parseConfig(
      `
listen:
  socket: run/j.sock
  socket_mode: "0600"
  tcp: { address: "[::1]:8443", tls: { cert_file: tls/c.pem, key_file: tls/k.pem, client_ca_file: tls/ca.pem } }
state: { postgres: "postgres://jitgate@db.internal/jitgate", password_file: pg-pass }
audit: { file: log/audit.jsonl, checkpoint_every: 10, fsync: false, hmac_key_file: /keys/hmac }
vault: { address: http://127.0.0.1:8200, auth: { token_file: vt }, timeout: 2s, mint_attempts: 2, revoke_attempts: 7, ca_file: ca.pem }
identity:
  local: { context: true, approvers: true }
  ci:
    - issuer: https://gitlab.com
      audience: jitgate
    - issuer: http://127.0.0.1:9999
      audience: jitgate-test
      kind: generic
      algorithms: [ES256]
      leeway: 5m
      max_token_age: 1h
      claims: { repository: project, repository_id: pid }
      jwks_uri: http://127.0.0.1:9999/jwks
groups: { sre: [alice, bob] }
resources:
  r1: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 1m30s, excess_ttl: deny }
policies:
  - name: r1
    match: { resource: r1, issuer: https://gitlab.com, namespace_id: 7, environment: dev, fork: false }
    require: { approvals: 2, from: [user:alice, user:bob], every_group: true }
limits: { max_pending_requests: 5, max_message_bytes: 1024, max_metadata_bytes: 512, default_rpc_deadline: 3s }
log: { level: debug }
stop_timeout: 2s
`,
      { source: 'x.yaml', baseDir: '/srv/j' },
    );
    assert.deepEqual(config.listen, {
      socket: '/srv/j/run/j.sock',
      socketMode: 0o600,
      tcp: { address: '[::1]:8443', tls: { certFile: '/srv/j/tls/c.pem', keyFile: '/srv/j/tls/k.pem', clientCaFile: '/srv/j/tls/ca.pem' }, access: false },
    });
    assert.deepEqual(config.state, { kind: 'postgres', url: 'postgres://jitgate@db.internal/jitgate', passwordFile: '/srv/j/pg-pass' });
    assert.deepEqual(config.audit, {
      file: '/srv/j/log/audit.jsonl',
      signingKeyFile: '/srv/j/log/audit-signing.key',
      hmacKeyFile: '/keys/hmac',
      checkpointEvery: 10,
      fsync: false,
    });
    assert.deepEqual(config.vault, {
      address: 'http://127.0.0.1:8200',
      auth: { kind: 'token', tokenFile: '/srv/j/vt' },
      timeoutMs: 2000,
      mintAttempts: 2,
      revokeAttempts: 7,
      caFile: '/srv/j/ca.pem',
    });
    assert.equal(config.identity.localContext, true);
    assert.equal(config.identity.localApprovers, true);
    assert.equal(config.identity.ci[0]?.kind, 'gitlab');
    assert.deepEqual(config.identity.ci[1], {
      issuer: 'http://127.0.0.1:9999',
      audience: 'jitgate-test',
      kind: 'generic',
      jwksUri: 'http://127.0.0.1:9999/jwks',
      algorithms: ['ES256'],
      leewayMs: 300_000,
      maxTokenAgeMs: 3_600_000,
      claims: table({ repository: 'project', repositoryId: 'pid' }),
    });
    assert.deepEqual(config.groups, table({ sre: ['alice', 'bob'] }));
    assert.deepEqual(config.resources.r1, {
      name: 'r1',
      vault: { policies: ['p'] },
      env: table({ VAULT_TOKEN: 'token' }),
      ttlMs: 90_000,
      maxTtlMs: 90_000,
      excessTtl: 'deny',
    });
    assert.deepEqual(config.policies[0], {
      name: 'r1',
      match: { resource: ['r1'], issuer: ['https://gitlab.com'], namespaceId: ['7'], environment: ['dev'], fork: false },
      decision: 'require',
      require: { approvals: 2, from: ['user:alice', 'user:bob'], everyGroup: true, expiresAfterMs: 900_000, escalate: [] },
    });
    assert.deepEqual(config.limits, { maxPendingRequests: 5, pendingPerRepository: 20, pendingPerActor: 10, maxMessageBytes: 1024, maxMetadataBytes: 512, defaultRpcDeadlineMs: 3000 });
    assert.equal(config.log.level, 'debug');
    assert.equal(config.stopTimeoutMs, 2000);
  });

  it('accepts the shipped fleet examples, deploy/fleet/approval-plane.yaml and runner.yaml', async () => {
    const plane = await loadConfig(join(REPO_ROOT, 'deploy/fleet/approval-plane.yaml'));
    const runner = await loadConfig(join(REPO_ROOT, 'deploy/fleet/runner.yaml'));
    assert.deepEqual([plane.state.kind, plane.fleet?.role, plane.fleet?.node], ['postgres', 'plane', 'plane-1']);
    assert.deepEqual([runner.state.kind, runner.fleet?.role, runner.fleet?.mint], ['postgres', 'runner', 'owner']);
    assert.equal(runner.fleet?.heartbeatTimeoutMs, 30_000);
  });

  it('accepts the shipped deploy/jitgated.example.yaml', async () => {
    const config = await loadConfig(join(REPO_ROOT, 'deploy/jitgated.example.yaml'));
    assert.equal(config.state.kind, 'sqlite');
    assert.equal(config.vault.auth.kind, 'approle');
    assert.equal(config.vault.tokenRole, 'jitgated');
    assert.deepEqual(
      config.identity.ci.map((ci) => ci.kind),
      ['github', 'gitlab'],
    );
    assert.deepEqual(
      config.policies.map((p) => [p.name, p.decision]),
      [
        ['no-forks', 'deny'],
        ['prod-db-from-main', 'require'],
        ['deploy-prod-on-release-tags', 'require'],
        ['staging', 'auto-approve'],
        ['gitlab-staging', 'auto-approve'],
        ['everything-else', 'deny'],
      ],
    );
    assert.equal(config.notifiers.length, 3);
    // Two CI issuers: every rule pins one, and the new match keys reach the rules.
    assert.ok(config.policies.every((p) => (p.match.issuer?.length ?? 0) > 0));
    assert.deepEqual(config.policies[2]?.match.jobWorkflowRef, ['acme/ci/.github/workflows/deploy.yml@refs/tags/v1']);
    assert.deepEqual(config.policies[4]?.match.namespaceId, ['4242']);
  });
});

describe('loadConfig', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves relative paths against the file's directory", async () => {
    const file = join(dir, 'jitgated.yaml');
    await writeFile(file, BRIEF_EXAMPLE.replace('state: { sqlite: /var/lib/jitgated/state.db }', 'state: { sqlite: data/state.db }'));
    const config = await loadConfig(file);
    assert.deepEqual(config.state, { kind: 'sqlite', path: join(dir, 'data/state.db') });
    assert.equal(config.vault.auth.kind === 'approle' && config.vault.auth.roleIdFile, join(dir, 'role-id'));
  });

  it('refuses a missing file with ConfigError', async () => {
    await assert.rejects(loadConfig(join(dir, 'nope.yaml')), (err: unknown) => err instanceof ConfigError && /cannot read/.test(err.message));
  });
});
