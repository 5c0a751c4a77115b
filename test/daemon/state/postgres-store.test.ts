import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { UnavailableError } from '../../../src/common/errors.js';
import { openPostgresStore } from '../../../src/daemon/state/postgres-store.js';
import { POSTGRES_MIGRATIONS } from '../../../src/daemon/state/postgres-schema.js';
import { type TestPostgres, startPostgres } from '../../support/postgres.js';
import { runStoreContract, sampleGrant, sampleRequest } from './store-contract.js';

const T0 = Date.UTC(2026, 0, 1);
let server: TestPostgres | undefined;
let counter = 0;

before(async () => {
  server = await startPostgres();
});

after(async () => {
  await server?.stop();
});

function running(): TestPostgres {
  if (!server) throw new Error('PostgreSQL did not start');
  return server;
}

function databaseUrl(database: string): string {
  const url = new URL(running().url);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin(sql: string, database = 'postgres'): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: databaseUrl(database) });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Each contract test gets its own empty database in the one throw-away cluster. */
async function freshDatabase(): Promise<string> {
  const name = `jitgate_test_${++counter}`;
  await admin(`CREATE DATABASE ${name}`);
  return databaseUrl(name);
}

runStoreContract('postgres', async () => openPostgresStore({ url: await freshDatabase() }));

describe('PostgresStateStore', () => {
  it('keeps state across close and reopen (a daemon restart)', async () => {
    const url = await freshDatabase();
    const request = sampleRequest();
    const grant = sampleGrant(request.id, { status: 'live', accessor: 'acc-1' });
    const first = await openPostgresStore({ url });
    await first.insertRequest(request);
    await first.insertGrant(grant);
    assert.equal(await first.rememberTokenId('iss', 'jti-1', T0 + 600_000, T0), true);
    await first.close();

    const second = await openPostgresStore({ url });
    try {
      assert.deepEqual(await second.getRequest(request.id), request);
      assert.deepEqual(await second.listGrants(['live']), [grant]);
      assert.equal(await second.rememberTokenId('iss', 'jti-1', T0 + 600_000, T0 + 1), false);
    } finally {
      await second.close();
    }
  });

  it('lets exactly one of 50 transitions win when they race over separate connections', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openPostgresStore({ url, maxConnections: 5 })));
    try {
      const request = sampleRequest();
      await stores[0]?.insertRequest(request);
      const results = await Promise.all(
        stores.flatMap((store, s) =>
          Array.from({ length: 10 }, (_, j) =>
            store.transitionRequest(request.id, ['pending'], {
              status: 'approved',
              statusReason: `racer-${s * 10 + j}`,
              updatedAt: T0 + j,
            }),
          ),
        ),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1);
      assert.equal((await stores[0]?.getRequest(request.id))?.statusReason, `racer-${winners[0] ?? -1}`);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('records the schema version', async () => {
    const url = await freshDatabase();
    await (await openPostgresStore({ url })).close();
    const name = new URL(url).pathname.slice(1);
    const result = await admin('SELECT version FROM jitgate_schema', name);
    assert.deepEqual(result.rows, [{ version: POSTGRES_MIGRATIONS.length }]);
  });

  it('refuses a database from a newer schema', async () => {
    const url = await freshDatabase();
    await (await openPostgresStore({ url })).close();
    await admin(`UPDATE jitgate_schema SET version = ${POSTGRES_MIGRATIONS.length + 1}`, new URL(url).pathname.slice(1));
    await assert.rejects(openPostgresStore({ url }), (err: unknown) => err instanceof UnavailableError && /newer/.test(err.message));
  });

  it('fails to open with UnavailableError that names the database but not the password', async () => {
    const url = new URL(databaseUrl('postgres'));
    url.password = 'wrong-password-xyz';
    await assert.rejects(
      openPostgresStore({ url: url.toString(), timeoutMs: 2000 }),
      (err: unknown) =>
        err instanceof UnavailableError &&
        err.message.includes(`${url.hostname}:${url.port}`) &&
        !err.message.includes('wrong-password-xyz'),
    );
  });
});
