import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ManualClock } from '../../../src/common/clock.js';
import { ConfigError, UnavailableError } from '../../../src/common/errors.js';
import { checkConfigText } from '../../../src/daemon/config/check-config.js';
import { openStateStore } from '../../../src/daemon/state/open-state-store.js';
import { type TestPostgres, startPostgres } from '../../support/postgres.js';
import { sampleRequest } from './store-contract.js';

const ROLE = 'jit_pw';
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const WRONG = `wrong-${randomBytes(12).toString('hex')}`;

describe('state.password_file (PostgreSQL with a password from a file)', () => {
  let server: TestPostgres;
  let dir = '';
  let url = '';

  before(async () => {
    server = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'jitgate-pgpw-'));
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`);
      await admin.query(`CREATE DATABASE jit_pw_db OWNER ${ROLE}`);
    } finally {
      await admin.end();
    }
    // No password in the URL: inline secrets are refused, the password comes from the file only.
    url = `postgres://${ROLE}@${server.host}:${server.port}/jit_pw_db`;
    await writeFile(join(dir, 'pg-password'), `${PASSWORD}\n`, { mode: 0o600 });
    await writeFile(join(dir, 'wrong-password'), `${WRONG}\n`, { mode: 0o600 });
  });

  after(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('connects with the password read from the file, as checkConfig resolved it', async () => {
    await writeFile(join(dir, 'vault-token'), 'hvs.x', { mode: 0o600 });
    const yaml = [
      `state: { postgres: "${url}", password_file: pg-password }`,
      'vault: { address: "http://127.0.0.1:8200", auth: { token_file: vault-token } }',
      'resources: { db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s } }',
    ].join('\n');
    const { config, problems } = await checkConfigText(yaml, { source: 'c.yaml', baseDir: dir });
    assert.deepEqual(problems, []);
    assert.ok(config);
    assert.deepEqual(config.state, { kind: 'postgres', url, passwordFile: join(dir, 'pg-password') });
    const store = await openStateStore(config.state, { clock: new ManualClock() });
    try {
      const request = sampleRequest();
      await store.insertRequest(request);
      assert.equal((await store.getRequest(request.id))?.id, request.id);
    } finally {
      await store.close();
    }
  });

  it('without the file the role cannot log in (the password is not coming from elsewhere)', async () => {
    await assert.rejects(openStateStore({ kind: 'postgres', url }, { clock: new ManualClock() }), UnavailableError);
  });

  it('a wrong password in the file is a clear start error that shows no password', async () => {
    await assert.rejects(openStateStore({ kind: 'postgres', url, passwordFile: join(dir, 'wrong-password') }, { clock: new ManualClock() }), (err: unknown) => {
      assert.ok(err instanceof UnavailableError, String(err));
      assert.match(err.message, /^state store postgres:\/\/jit_pw@127\.0\.0\.1:\d+\/jit_pw_db: cannot open: password authentication failed for user "jit_pw"$/);
      assert.ok(!err.message.includes(WRONG) && !err.message.includes(PASSWORD), err.message);
      return true;
    });
  });

  it('an unusable password file is a ConfigError at state.password_file', async () => {
    await writeFile(join(dir, 'loose'), `${PASSWORD}\n`, { mode: 0o644 });
    await assert.rejects(
      openStateStore({ kind: 'postgres', url, passwordFile: join(dir, 'loose') }, { clock: new ManualClock() }),
      (err: unknown) => err instanceof ConfigError && err.path === 'state.password_file' && /is mode 0644; chmod 600 it/.test(err.message) && !err.message.includes(PASSWORD),
    );
  });
});
