import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/cli.js';

const CONFIG = `
vault: { address: http://127.0.0.1:8200, auth: { token_file: vault-token } }
resources:
  prod-db:
    vault: { policies: [jit-prod-db], read: database/creds/migrator }
    env: { PGUSER: username, PGPASSWORD: password }
    ttl: 60s
policies:
  - name: prod-db-from-main
    match: { resource: prod-db, repository: acme/api, ref: refs/heads/main, environment: production }
    require: { approvals: 2, from: [group:sre, group:dba], expires_after: 15m }
  - name: everything-else
    decision: deny
`;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await main(argv, { env: {}, stdout, stderr });
  return { code, out, err };
}

describe('jitgate policy', () => {
  let dir: string;
  let config: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-policy-'));
    config = join(dir, 'jitgated.yaml');
    await writeFile(config, CONFIG);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('check lists the rules in order', async () => {
    const { code, out } = await run(['policy', 'check', config]);
    assert.equal(code, 0);
    assert.match(out, /2 rule\(s\)/);
    assert.match(out, /1\. prod-db-from-main: require 2 of group:sre, group:dba/);
    assert.match(out, /2\. everything-else: deny when anything/);
  });

  it('check names the bad key of an invalid file and exits 1', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, CONFIG.replace('ref: refs/heads/main', 'ref: main'));
    const { code, err } = await run(['policy', 'check', bad]);
    assert.equal(code, 1);
    assert.match(err, /policies\[0\]\.match\.ref/);
  });

  it('explain names the deciding rule: a tag named main falls through to the default', async () => {
    const main = await run([
      'policy', 'explain', '--config', config, '--resource', 'prod-db',
      '--context', JSON.stringify({ repository: 'acme/api', ref: 'refs/heads/main', environment: 'production', actor: 'alice', sha: 'a'.repeat(40) }),
    ]);
    assert.equal(main.code, 0, main.err);
    assert.match(main.out, /prod-db-from-main/);
    assert.match(main.out, /require/i);
    const tag = await run([
      'policy', 'explain', '--config', config, '--resource', 'prod-db',
      '--context', JSON.stringify({ repository: 'acme/api', ref: 'refs/tags/main', environment: 'production' }),
    ]);
    assert.equal(tag.code, 0, tag.err);
    assert.match(tag.out, /everything-else/);
    assert.match(tag.out, /refs\/tags\/main/);
    assert.match(tag.out, /deny/i);
  });

  it('explain refuses a malformed --context naming the flag', async () => {
    const { code, err } = await run(['policy', 'explain', '--config', config, '--resource', 'prod-db', '--context', '{nope']);
    assert.equal(code, 64);
    assert.match(err, /--context/);
  });
});
