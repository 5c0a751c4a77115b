import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { checkConfigText, type ConfigCheck } from '../../../src/daemon/config/check-config.js';
import { problemText, type ConfigProblem } from '../../../src/daemon/config/config-problem.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/jitgated.js');
const EX_CONFIG = 78;

type Doc = Record<string, unknown>;

let dir = '';
const file = (name: string): string => join(dir, name);

async function secret(name: string, value: string, mode = 0o600): Promise<string> {
  await writeFile(file(name), `${value}\n`, { mode });
  await chmod(file(name), mode);
  return file(name);
}

/** A config that passes every check: TLS, Vault CA, web page, and each notifier kind with its secrets. */
function base(): Doc {
  return {
    listen: {
      socket: file('jitgated.sock'),
      tcp: { address: '127.0.0.1:18443', tls: { cert_file: file('tls.crt'), key_file: file('tls.key'), client_ca_file: file('tls.crt') } },
    },
    state: { sqlite: file('state.db') },
    audit: { file: file('audit.jsonl') },
    vault: { address: 'http://127.0.0.1:1', auth: { token_file: file('vault-token') }, ca_file: file('tls.crt') },
    identity: {
      approvers: { issuer: 'https://idp.example', audience: 'jitgate', web: { client_id: 'jitgate', client_secret_file: file('web-secret') } },
    },
    http: { listen: '127.0.0.1:0', public_url: 'https://jit.example' },
    resources: { db: { vault: { policies: ['p'] }, env: { VAULT_TOKEN: 'token' }, ttl: '60s' } },
    notifiers: [
      { slack: { token_file: file('slack-token'), signing_secret_file: file('slack-signing'), channel: '#deploys', team_id: 'T0ACME', users: { U0BOB: 'bob' } } },
      { webhook: { url: 'https://hooks.example/jit', secret_file: file('hook-secret'), decisions: { identity: 'pager' } } },
      { email: { smtp: { host: 'mail', port: 587, user: 'jit', password_file: file('smtp-password'), ca_file: file('tls.crt') }, from: 'jit@acme.test', to: ['sre@acme.test'] } },
    ],
    policies: [{ name: 'db', match: { resource: 'db', repository: 'acme/api' }, require: { approvals: 1, from: ['group:sre'] } }],
  };
}

function check(doc: Doc): Promise<ConfigCheck> {
  return checkConfigText(stringify(doc), { source: 'test.yaml', baseDir: dir });
}

/** Runs the real bin, as the service unit and an operator do; a daemon that did start is killed after 20 s. */
function jitgated(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => {
      done({ status, stdout, stderr });
    });
  });
}

/** Sets (or with `undefined` removes) the value at `path`. */
function set(doc: Doc, path: (string | number)[], value: unknown): Doc {
  let node = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (last === undefined) throw new Error('empty path');
  if (value === undefined) Reflect.deleteProperty(node, last);
  else node[last] = value;
  return doc;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jitgate-check-'));
  const tls = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', file('tls.key'), '-out', file('tls.crt')],
    { encoding: 'utf8' },
  );
  assert.equal(tls.status, 0, tls.stderr);
  await chmod(file('tls.key'), 0o600);
  await secret('vault-token', 'hvs.token');
  await secret('web-secret', 'web-client-secret');
  await secret('slack-token', 'xoxb-token');
  await secret('slack-signing', 'signing');
  await secret('hook-secret', 'hook');
  await secret('smtp-password', 'smtp');
  await secret('pg-password', 'pg');
  await secret('loose', 'loose', 0o644);
  await secret('empty', '');
  await writeFile(file('garbage.pem'), 'not a certificate\n', { mode: 0o600 });
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkConfig', () => {
  it('accepts a config using every file kind, typing the notifiers and resolving the web page', async () => {
    const { config, problems } = await check(base());
    assert.deepEqual(problems, []);
    assert.ok(config);
    assert.deepEqual(
      config.notifiers.map((n) => n.kind),
      ['slack', 'webhook', 'email'],
    );
    assert.equal(config.webPages?.redirectUri, 'https://jit.example/auth/callback');
    assert.equal(config.webPages.clientSecretFile, file('web-secret'));
    assert.ok(Object.isFrozen(config.notifiers[0]));
  });

  it('reports every schema problem, not only the first', async () => {
    const doc = base();
    set(doc, ['resources', 'db', 'ttl'], '60');
    set(doc, ['stop_timeout'], 5);
    set(doc, ['limits'], { max_pending_requests: 0, bogus: 1 });
    const { config, problems } = await check(doc);
    assert.equal(config, undefined);
    assert.deepEqual(
      problems.map((p) => p.path),
      ['resources.db.ttl', 'limits.max_pending_requests', 'limits.bogus', 'stop_timeout'],
    );
  });
});

describe('checkConfig: issuer pinning and the new match keys', () => {
  const GH = 'https://token.actions.githubusercontent.com';
  const GL = 'https://gitlab.example';
  const withIssuers = (issuers: string[], policies: unknown[]): Doc => {
    const doc = base();
    set(doc, ['identity', 'ci'], issuers.map((issuer) => ({ issuer, audience: 'jitgate' })));
    return set(doc, ['policies'], policies);
  };
  const rule = (name: string, match: Record<string, unknown>, decision = 'auto-approve'): unknown => ({ name, match: { resource: 'db', ...match }, decision });
  const messages = (c: ConfigCheck): Record<string, string> => Object.fromEntries(c.problems.map((p) => [p.path, p.message]));

  it('with two CI issuers, every rule that can grant must pin issuer (a deny rule may not); a list of both counts', async () => {
    const c = await check(
      withIssuers([GH, GL], [
        rule('pinned', { issuer: GH, repository_id: 42 }),
        rule('unpinned', { repository_id: 42 }),
        { name: 'catch-all', decision: 'deny' },
        rule('both', { issuer: [GH, GL], fork: true }, 'deny'),
      ]),
    );
    const m = messages(c);
    assert.deepEqual(Object.keys(m), ['policies[1].match.issuer']);
    assert.match(m['policies[1].match.issuer'] ?? '', /^required when more than one identity\.ci issuer is configured: without it rule "unpinned"/);
    assert.ok(m['policies[1].match.issuer']?.includes(`configured: ${GH}, ${GL}`));
  });

  it('with one CI issuer, issuer is optional but must name it; ids and workflow refs are checked', async () => {
    assert.deepEqual((await check(withIssuers([GH], [rule('r', { repository_id: 42 })]))).problems, []);
    const m = messages(
      await check(
        withIssuers([GH], [
          rule('a', { issuer: [GH, `${GH}/`], repository: 'acme/api' }),
          rule('b', { issuer: GH, repository: 'acme/api', repository_owner_id: 'acme', namespace_id: [3, 'x'] }),
          rule('c', { issuer: GH, repository: 'acme/api', job_workflow_ref: ['acme/ci/.github/workflows/deploy.yml@v1', 'acme/ci/deploy.yml', 'acme/ci/**', 'acme/ci/d.yml@refs/tags/v1'] }),
        ]),
      ),
    );
    assert.deepEqual(Object.keys(m), [
      'policies[0].match.issuer[1]',
      'policies[1].match.repository_owner_id',
      'policies[1].match.namespace_id[1]',
      'policies[2].match.job_workflow_ref[0]',
      'policies[2].match.job_workflow_ref[1]',
    ]);
    assert.match(m['policies[0].match.issuer[1]'] ?? '', /is not a configured identity\.ci issuer \(compared exactly, no wildcards/);
    assert.match(m['policies[2].match.job_workflow_ref[0]'] ?? '', /never matches: GitHub writes the workflow path and its full ref/);
  });

  it('without CI issuers a rule pinning one is refused (it could never match)', async () => {
    const m = messages(await check(set(base(), ['policies'], [rule('r', { issuer: GH, repository: 'acme/api' })])));
    assert.match(m['policies[0].match.issuer'] ?? '', /configured: none/);
  });
});

describe('jitgated check-config', () => {
  it('says ok for a good file', async () => {
    const good = file('good.yaml');
    await writeFile(good, stringify(base()));
    const result = await jitgated(['check-config', good]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, `${good}: ok\n`);
  });

  it('lists three independent mistakes (schema, cross-reference, notifier), one per line, and exits EX_CONFIG', async () => {
    const doc = base();
    set(doc, ['resources', 'db', 'ttl'], '60');
    set(doc, ['policies', 0, 'match', 'resource'], 'dbb');
    set(doc, ['notifiers', 0, 'slack', 'channel'], '');
    const bad = file('three.yaml');
    await writeFile(bad, stringify(doc));
    const result = await jitgated(['check-config', bad]);
    assert.equal(result.status, EX_CONFIG);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trimEnd().split('\n'), [
      `jitgated: invalid config ${bad}: resources.db.ttl: invalid duration "60" (use e.g. 500ms, 60s, 15m, 1h)`,
      `jitgated: invalid config ${bad}: policies[0].match.resource: unknown resource "dbb" (known: db)`,
      `jitgated: invalid config ${bad}: notifiers[0].slack.channel: must not be empty`,
    ]);
  });
});

interface BadCase {
  readonly category: string;
  readonly edit: (doc: Doc) => unknown;
  readonly path: string;
  readonly message: RegExp;
}

const BAD: readonly BadCase[] = [
  { category: 'schema: bad duration', edit: (d) => set(d, ['resources', 'db', 'ttl'], '60'), path: 'resources.db.ttl', message: /invalid duration/ },
  { category: 'schema: unknown key', edit: (d) => set(d, ['vault', 'tiemout'], '5s'), path: 'vault.tiemout', message: /unknown key/ },
  { category: 'inline secret', edit: (d) => set(d, ['vault', 'auth'], { token: 'hvs.inline' }), path: 'vault.auth.token', message: /inline secrets/ },
  { category: 'cross-ref: unknown resource', edit: (d) => set(d, ['policies', 0, 'match', 'resource'], 'dbb'), path: 'policies[0].match.resource', message: /unknown resource "dbb"/ },
  { category: 'notifier: bad slack channel', edit: (d) => set(d, ['notifiers', 0, 'slack', 'channel'], ''), path: 'notifiers[0].slack.channel', message: /must not be empty/ },
  { category: 'notifier: bad team id', edit: (d) => set(d, ['notifiers', 0, 'slack', 'team_id'], 'acme'), path: 'notifiers[0].slack.team_id', message: /team id/ },
  {
    category: 'notifier: two slack notifiers',
    edit: (d) => (d.notifiers as unknown[]).push(structuredClone((d.notifiers as unknown[])[0])),
    path: 'notifiers',
    message: /at most one slack notifier/,
  },
  { category: 'notifier: callbacks without http', edit: (d) => set(d, ['http'], undefined), path: 'http', message: /is required: Slack buttons/ },
  {
    category: 'web: client id is not the audience',
    edit: (d) => set(d, ['identity', 'approvers', 'web', 'client_id'], 'other'),
    path: 'identity.approvers.web.client_id',
    message: /must equal identity\.approvers\.audience/,
  },
  { category: 'web: no callback URL', edit: (d) => set(d, ['http'], { listen: '127.0.0.1:0' }), path: 'http.public_url', message: /names the sign-in callback/ },
  {
    category: 'secret file mode',
    edit: (d) => set(d, ['vault', 'auth', 'token_file'], file('loose')),
    path: 'vault.auth.token_file',
    message: /is mode 0644; chmod 600 it$/,
  },
  {
    category: 'missing secret file',
    edit: (d) => set(d, ['notifiers', 1, 'webhook', 'secret_file'], file('nope')),
    path: 'notifiers[1].webhook.secret_file',
    message: /cannot read the secret file .*\(ENOENT\)/,
  },
  {
    category: 'empty secret file',
    edit: (d) => set(d, ['identity', 'approvers', 'web', 'client_secret_file'], file('empty')),
    path: 'identity.approvers.web.client_secret_file',
    message: /is empty/,
  },
  {
    category: 'missing approle secret_id file',
    edit: (d) => set(d, ['vault', 'auth'], { approle: { role_id_file: file('vault-token'), secret_id_file: file('nope') } }),
    path: 'vault.auth.approle.secret_id_file',
    message: /cannot read/,
  },
  { category: 'bad TLS certificate', edit: (d) => set(d, ['listen', 'tcp', 'tls', 'cert_file'], file('garbage.pem')), path: 'listen.tcp.tls.cert_file', message: /not a PEM certificate/ },
  { category: 'bad TLS key', edit: (d) => set(d, ['listen', 'tcp', 'tls', 'key_file'], file('garbage.pem')), path: 'listen.tcp.tls.key_file', message: /not a PEM private key/ },
  { category: 'bad client CA', edit: (d) => set(d, ['listen', 'tcp', 'tls', 'client_ca_file'], file('nope.pem')), path: 'listen.tcp.tls.client_ca_file', message: /cannot read/ },
  { category: 'bad Vault CA', edit: (d) => set(d, ['vault', 'ca_file'], file('garbage.pem')), path: 'vault.ca_file', message: /not a PEM certificate/ },
  {
    category: 'bad SMTP CA',
    edit: (d) => set(d, ['notifiers', 2, 'email', 'smtp', 'ca_file'], file('garbage.pem')),
    path: 'notifiers[2].email.smtp.ca_file',
    message: /not a PEM certificate/,
  },
  {
    category: 'unknown SMTP TLS mode',
    edit: (d) => set(d, ['notifiers', 2, 'email', 'smtp', 'tls'], 'maybe'),
    path: 'notifiers[2].email.smtp.tls',
    message: /must be one of: starttls, implicit, none/,
  },
  {
    category: 'audit signing key of the wrong type',
    edit: (d) => set(d, ['audit', 'signing_key_file'], file('tls.key')),
    path: 'audit.signing_key_file',
    message: /is not an Ed25519 key/,
  },
  { category: 'audit hmac key too short', edit: (d) => set(d, ['audit', 'hmac_key_file'], file('hook-secret')), path: 'audit.hmac_key_file', message: /fewer than 32 bytes/ },
  {
    category: 'password_file missing',
    edit: (d) => set(d, ['state'], { postgres: 'postgres://jit@127.0.0.1:1/jit', password_file: file('nope') }),
    path: 'state.password_file',
    message: /cannot read/,
  },
  {
    category: 'password_file mode',
    edit: (d) => set(d, ['state'], { postgres: 'postgres://jit@127.0.0.1:1/jit', password_file: file('loose') }),
    path: 'state.password_file',
    message: /is mode 0644/,
  },
  {
    category: 'password_file without postgres',
    edit: (d) => set(d, ['state'], { sqlite: file('state.db'), password_file: file('pg-password') }),
    path: 'state.password_file',
    message: /only applies to "postgres"/,
  },
];

describe('every config the daemon refuses, check-config refuses', () => {
  const found = new Map<string, ConfigProblem>();

  it('checkConfig reports each bad config at its key path', async () => {
    for (const bad of BAD) {
      const doc = base();
      bad.edit(doc);
      const { config, problems } = await check(doc);
      assert.equal(config, undefined, bad.category);
      const problem = problems.find((p) => p.path === bad.path);
      assert.ok(problem, `${bad.category}: no problem at ${bad.path} in ${JSON.stringify(problems)}`);
      assert.match(problem.message, bad.message, bad.category);
      found.set(bad.category, problem);
    }
  });

  it('the daemon (bin/jitgated.js --config) refuses to start on each, printing the same problem', async () => {
    assert.equal(found.size, BAD.length, 'the checkConfig test above runs first');
    // Three at a time: each is a cold Node start.
    const queue = [...BAD.entries()];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const [i, bad] = next;
        const doc = base();
        bad.edit(doc);
        const path = file(`bad-${i}.yaml`);
        await writeFile(path, stringify(doc));
        const line = `jitgated: invalid config ${path}: ${problemText(found.get(bad.category) ?? { path: '', message: '?' })}`;
        const daemon = await jitgated(['--config', path]);
        assert.equal(daemon.status, EX_CONFIG, `${bad.category}: ${daemon.stderr}`);
        assert.ok(daemon.stderr.split('\n').includes(line), `${bad.category}: expected ${line}\ngot ${daemon.stderr}`);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  });
});
