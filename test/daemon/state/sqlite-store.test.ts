import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { ManualClock } from '../../../src/common/clock.js';
import { UnavailableError } from '../../../src/common/errors.js';
import { openSqliteStore } from '../../../src/daemon/state/sqlite-store.js';
import { SQLITE_MIGRATIONS } from '../../../src/daemon/state/sqlite-schema.js';
import { runStoreContract, sampleGrant, sampleRequest } from './store-contract.js';

const T0 = Date.UTC(2026, 0, 1);
const RACER_BOOT = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(
  new URL('./cas-racer.ts', import.meta.url).href,
)}, ${JSON.stringify(import.meta.url)}))`;
const root = mkdtempSync(join(tmpdir(), 'jitgate-sqlite-'));
let counter = 0;
const freshPath = () => join(root, `db-${++counter}`, 'state.db');

after(() => {
  rmSync(root, { recursive: true, force: true });
});

runStoreContract('sqlite file', () => Promise.resolve(openSqliteStore({ path: freshPath() })));
runStoreContract('sqlite :memory:', () => Promise.resolve(openSqliteStore({ path: ':memory:' })));

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('SqliteStateStore', () => {
  it('keeps requests, approvals, grants and token ids across close and reopen', async () => {
    const path = freshPath();
    const request = sampleRequest();
    const grant = sampleGrant(request.id, { status: 'live', accessor: 'acc-1', leaseIds: ['database/creds/migrator/x'] });
    const issuer = 'https://token.actions.githubusercontent.com';

    const first = openSqliteStore({ path });
    await first.insertRequest(request);
    assert.equal(await first.transitionRequest(request.id, ['pending'], { status: 'approved', updatedAt: T0 + 1 }), true);
    assert.equal(await first.addApproval({ requestId: request.id, subject: 'bob', name: 'Bob', trust: 'idp', channel: 'web', decision: 'approve', at: T0 }), true);
    await first.insertGrant(grant);
    assert.equal(await first.rememberTokenId(issuer, 'jti-1', T0 + 600_000, T0), true);
    await first.close();

    // A daemon restart: the replay cache and the live grant must both still be there.
    const second = openSqliteStore({ path });
    try {
      assert.deepEqual(await second.getRequest(request.id), { ...request, status: 'approved', updatedAt: T0 + 1 });
      assert.equal(await second.addApproval({ requestId: request.id, subject: 'bob', name: 'Bob', trust: 'slack', channel: 'slack', decision: 'approve', at: T0 + 5 }), false);
      assert.equal((await second.listApprovals(request.id)).length, 1);
      assert.deepEqual(await second.listGrants(['live']), [grant]);
      assert.equal(await second.rememberTokenId(issuer, 'jti-1', T0 + 600_000, T0 + 60_000), false);
      assert.equal(await second.transitionRequest(request.id, ['pending'], { status: 'denied', updatedAt: T0 + 2 }), false);
    } finally {
      await second.close();
    }
  });

  it('creates missing directories 0700 and the database (and its WAL) 0600', async () => {
    const dir = join(root, `perm-${++counter}`);
    const path = join(dir, 'nested', 'state.db');
    const store = openSqliteStore({ path });
    try {
      await store.insertRequest(sampleRequest());
      assert.equal(mode(path), 0o600);
      assert.equal(mode(`${path}-wal`), 0o600);
      assert.equal(mode(join(dir, 'nested')), 0o700);
      assert.equal(mode(dir), 0o700);
    } finally {
      await store.close();
    }
  });

  it('tightens an existing database file to 0600', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    chmodSync(path, 0o644);
    const store = openSqliteStore({ path });
    await store.close();
    assert.equal(mode(path), 0o600);
  });

  it('records the schema version in user_version', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma('user_version', { simple: true }), SQLITE_MIGRATIONS.length);
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
    }
  });

  it('migrates a database from before channels: old approvals read as their trust implies, new ones keep theirs', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    // Back to schema 1 as a jitgate before channels left it: no channel column, approvals of each trust.
    const raw = new Database(path);
    const request = sampleRequest();
    try {
      raw.exec('DROP TABLE break_glass; DROP TABLE approvals; DROP TABLE grants; DROP TABLE requests; DROP TABLE token_ids;');
      raw.exec(SQLITE_MIGRATIONS[0] ?? '');
      raw.pragma('user_version = 1');
      raw
        .prepare(
          `INSERT INTO requests (id, resource, reason, context, claimed, ttl_ms, status, created_at, expires_at, updated_at)
           VALUES (?, 'demo-db', 'r', ?, '{}', 60000, 'pending', ?, ?, ?)`,
        )
        .run(request.id, JSON.stringify(request.context), T0, T0 + 60_000, T0);
      const add = raw.prepare("INSERT INTO approvals (request_id, subject, name, trust, decision, at) VALUES (?, ?, ?, ?, 'approve', ?)");
      add.run(request.id, 'bob', 'bob', 'local', T0 + 1);
      add.run(request.id, 'sub-carol', 'carol', 'idp', T0 + 2);
      add.run(request.id, 'carol-slack', 'carol', 'slack', T0 + 3);
      add.run(request.id, 'dave', 'dave', 'webhook', T0 + 4);
    } finally {
      raw.close();
    }
    const store = openSqliteStore({ path });
    try {
      assert.equal(await store.addApproval({ requestId: request.id, subject: 'sub-erin', name: 'erin', trust: 'idp', channel: 'web', decision: 'approve', at: T0 + 5 }), true);
      const approvals = await store.listApprovals(request.id);
      assert.deepEqual(
        approvals.map((a) => [a.name, a.trust, a.channel]),
        [
          ['bob', 'local', 'cli'],
          ['carol', 'idp', 'unknown'],
          ['carol', 'slack', 'slack'],
          ['dave', 'webhook', 'webhook'],
          ['erin', 'idp', 'web'],
        ],
      );
    } finally {
      await store.close();
    }
  });

  it('refuses a database from a newer schema, naming the path', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SQLITE_MIGRATIONS.length + 1}`);
    raw.close();
    assert.throws(
      () => openSqliteStore({ path }),
      (err: unknown) => err instanceof UnavailableError && err.message.includes(path) && /newer/.test(err.message),
    );
  });

  it('refuses a corrupt file with UnavailableError naming the path', async () => {
    const path = freshPath();
    await openSqliteStore({ path }).close();
    writeFileSync(path, Buffer.from('this is not an SQLite database, just some bytes\n'.repeat(200)));
    assert.throws(
      () => openSqliteStore({ path }),
      (err: unknown) => err instanceof UnavailableError && err.message.includes(path) && /not a database/.test(err.message),
    );
  });

  it('lets exactly one of 50 transitions win when they race from separate connections', async () => {
    const path = freshPath();
    const store = openSqliteStore({ path });
    const request = sampleRequest();
    await store.insertRequest(request);

    const workers = 5;
    const barrier = new SharedArrayBuffer(4);
    const results = await Promise.all(
      Array.from(
        { length: workers },
        (_, worker) =>
          new Promise<string[]>((resolve, reject) => {
            // Node 20 workers do not inherit the parent's loader hooks, so the worker loads the
            // TypeScript racer through tsx's API.
            const w = new Worker(RACER_BOOT, {
              eval: true,
              workerData: { path, requestId: request.id, worker, attempts: 10, barrier, workers },
            });
            w.once('message', (wins: string[]) => {
              resolve(wins);
            });
            w.once('error', reject);
          }),
      ),
    );
    const wins = results.flat();
    assert.equal(wins.length, 1);
    const stored = await store.getRequest(request.id);
    assert.equal(stored?.status, 'approved');
    assert.equal(stored.statusReason, wins[0]);
    await store.close();
  });

  describe('token id purge', () => {
    let path: string;
    before(() => {
      path = freshPath();
    });

    function countTokenIds(): number {
      const raw = new Database(path, { readonly: true });
      try {
        return raw.prepare<[], number>('SELECT count(*) FROM token_ids').pluck().get() ?? -1;
      } finally {
        raw.close();
      }
    }

    it('drops expired token ids on a later call, at most once a minute', async () => {
      const clock = new ManualClock(T0);
      const store = openSqliteStore({ path, clock });
      try {
        assert.equal(await store.rememberTokenId('iss', 'a', T0 + 1000, T0), true);
        assert.equal(await store.rememberTokenId('iss', 'b', T0 + 1000, T0), true);
        assert.equal(await store.rememberTokenId('iss', 'live', T0 + 600_000, T0), true);
        assert.equal(countTokenIds(), 3);

        // Expired, but within the purge interval: still on disk.
        assert.equal(await store.rememberTokenId('iss', 'c', T0 + 600_000, T0 + 5000), true);
        assert.equal(countTokenIds(), 4);

        clock.advance(60_000);
        assert.equal(await store.rememberTokenId('iss', 'd', T0 + 600_000, T0 + 60_000), true);
        assert.equal(countTokenIds(), 3);
        assert.equal(await store.rememberTokenId('iss', 'live', T0 + 600_000, T0 + 60_001), false);
      } finally {
        await store.close();
      }
    });
  });
});
