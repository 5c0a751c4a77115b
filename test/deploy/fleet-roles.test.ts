/**
 * deploy/fleet/postgres-roles.sql on a real PostgreSQL: a database migrated by the daemon's own
 * migrations, the shipped roles and row-level security applied (twice: it is idempotent), runner
 * logins runner-a and runner-b and a plane login. Runner daemons keep working through the store
 * on their own rows and get permission errors (or nothing) for everything else; the plane does all.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { openPostgresStore, type PostgresStateStore } from '../../src/daemon/state/postgres-store.js';
import { deniedByPostgres as denied } from '../support/postgres-state.js';
import { type TestPostgres, startPostgres } from '../support/postgres.js';
import { sampleGrant, sampleRequest } from '../daemon/state/store-contract.js';

const SQL_FILE = join(import.meta.dirname, '../../deploy/fleet/postgres-roles.sql');
const DATABASE = `jitfleet_${randomBytes(4).toString('hex')}`;
const PASSWORD = randomBytes(12).toString('hex');
const LOGINS = { 'runner-a': 'jitgate_runner', 'runner-b': 'jitgate_runner', 'plane-1': 'jitgate_plane' } as const;
type Login = keyof typeof LOGINS;

let server: TestPostgres;
const clients: pg.Client[] = [];
const stores: PostgresStateStore[] = [];

function urlFor(user: string | null, database = DATABASE): string {
  const url = new URL(server.url);
  url.pathname = `/${database}`;
  if (user !== null) {
    url.username = encodeURIComponent(user);
    url.password = PASSWORD;
  }
  return url.toString();
}

async function connect(user: string | null, database = DATABASE): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: urlFor(user, database) });
  await client.connect();
  clients.push(client);
  return client;
}

let superuser: pg.Client;
const as: Partial<Record<Login, pg.Client>> = {};
const login = (name: Login): pg.Client => {
  const c = as[name];
  if (!c) throw new Error(`no connection for ${name}`);
  return c;
};


const INSERT_REQUEST = `INSERT INTO requests (id, resource, reason, context, claimed, ttl_ms, status, rule, created_at, expires_at, updated_at, owner_node)
  VALUES ($1, 'prod-db', 'r', '{}', '{}', 60000, 'pending', 'rule', 1, 2, 1, $2)`;
const INSERT_APPROVAL = `INSERT INTO approvals (request_id, subject, name, trust, decision, at, node) VALUES ($1, $2, $2, 'idp', 'approve', 5, 'plane-1')`;

before(async () => {
  server = await startPostgres();
  superuser = await connect(null, 'postgres');
  await superuser.query(`CREATE DATABASE ${DATABASE}`);
  // The daemon's own migrations, as a plane daemon's first start runs them.
  const migrated = await openPostgresStore({ url: urlFor(null) });
  await migrated.close();
  const sql = await readFile(SQL_FILE, 'utf8');
  const db = await connect(null);
  await db.query(sql);
  await db.query(sql);
  for (const [name, group] of Object.entries(LOGINS)) {
    await superuser.query(`CREATE ROLE "${name}" LOGIN PASSWORD '${PASSWORD}' IN ROLE ${group}`);
  }
  for (const name of Object.keys(LOGINS) as Login[]) as[name] = await connect(name);
});

after(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const c of clients.splice(0).reverse()) {
    if (c !== superuser) await c.end().catch(() => undefined);
  }
  try {
    const db = await connect(null);
    // The plane group owns the tables: hand them back before the roles go.
    await db.query('REASSIGN OWNED BY jitgate_plane TO CURRENT_USER; DROP OWNED BY jitgate_plane, jitgate_runner');
    await db.end();
    await superuser.query(`DROP DATABASE ${DATABASE}`);
    for (const name of Object.keys(LOGINS)) await superuser.query(`DROP ROLE "${name}"`);
    await superuser.query('DROP ROLE jitgate_plane');
    await superuser.query('DROP ROLE jitgate_runner');
  } finally {
    await superuser.end();
    await server.stop();
  }
});

describe('fleet roles: runner daemons', () => {
  it('a runner daemon opens the store as its own login and works on its own request and grant', async () => {
    const store = await openPostgresStore({ url: urlFor('runner-a'), node: 'runner-a' });
    stores.push(store);
    const request = sampleRequest();
    await store.insertRequest(request);
    assert.equal((await store.getRequest(request.id))?.ownerNode, 'runner-a');
    assert.equal(await store.transitionRequest(request.id, ['pending'], { status: 'denied', statusReason: 'expired', updatedAt: request.updatedAt + 1 }), true);
    const grant = sampleGrant(request.id);
    await store.insertGrant(grant);
    await store.updateGrant(grant.id, { accessor: 'acc-1', status: 'live', updatedAt: grant.updatedAt + 1 });
    assert.deepEqual((await store.listGrants(['live'])).map((g) => g.id), [grant.id]);
    assert.equal(await store.rememberTokenId('https://issuer', `jti-${request.id}`, Date.now() + 60_000, Date.now()), true);
    assert.deepEqual(await store.listApprovals(request.id), []);
  });

  it('a runner cannot insert, change or delete an approval, nor a break-glass record', async () => {
    const runnerA = login('runner-a');
    await runnerA.query(INSERT_REQUEST, ['own-a-1', 'runner-a']);
    await denied(runnerA.query(INSERT_APPROVAL, ['own-a-1', 'user:mallory']), /permission denied for table approvals/);
    await login('plane-1').query(INSERT_APPROVAL, ['own-a-1', 'user:alice']);
    await denied(runnerA.query("UPDATE approvals SET decision = 'approve' WHERE request_id = 'own-a-1'"), /permission denied for table approvals/);
    await denied(runnerA.query("DELETE FROM approvals WHERE request_id = 'own-a-1'"), /permission denied for table approvals/);
    await denied(runnerA.query(`INSERT INTO break_glass (request_id, record) VALUES ('own-a-1', '{}')`), /permission denied for table break_glass/);
    // It may read the approvals of its own request (to show who approved).
    const seen = await runnerA.query<{ subject: string }>("SELECT subject FROM approvals WHERE request_id = 'own-a-1'");
    assert.deepEqual(seen.rows.map((r) => r.subject), ['user:alice']);
  });

  it('a runner cannot insert a request or grant in another node’s name', async () => {
    const runnerA = login('runner-a');
    await denied(runnerA.query(INSERT_REQUEST, ['fake-b-1', 'runner-b']), /new row violates row-level security policy for table "requests"/);
    await login('runner-b').query(INSERT_REQUEST, ['own-b-1', 'runner-b']);
    const grant = `INSERT INTO grants (id, request_id, resource, lease_ids, status, created_at, expires_at, updated_at, owner_node)
      VALUES ($1, $2, 'prod-db', '[]', 'minting', 1, 2, 1, $3)`;
    await denied(runnerA.query(grant, ['g-fake-1', 'own-b-1', 'runner-b']), /row-level security policy for table "grants"/);
    // Not even a grant of its own for another node's request.
    await denied(runnerA.query(grant, ['g-fake-2', 'own-b-1', 'runner-a']), /row-level security policy for table "grants"/);
  });

  it('a runner’s update of another node’s request changes nothing, and it cannot give its own away', async () => {
    const runnerA = login('runner-a');
    await login('runner-b').query(INSERT_REQUEST, ['own-b-2', 'runner-b']);
    const hijack = await runnerA.query("UPDATE requests SET status = 'approved', owner_node = 'runner-a' WHERE id = 'own-b-2'");
    assert.equal(hijack.rowCount, 0);
    const approve = await runnerA.query("UPDATE requests SET status = 'approved' WHERE owner_node = 'runner-b'");
    assert.equal(approve.rowCount, 0);
    const db = await connect(null);
    const row = await db.query<{ status: string; owner_node: string }>("SELECT status, owner_node FROM requests WHERE id = 'own-b-2'");
    assert.deepEqual(row.rows, [{ status: 'pending', owner_node: 'runner-b' }]);
    await runnerA.query(INSERT_REQUEST, ['own-a-2', 'runner-a']);
    await denied(runnerA.query("UPDATE requests SET owner_node = 'runner-b' WHERE id = 'own-a-2'"), /row-level security policy for table "requests"/);
  });

  it('a runner cannot read another node’s requests, grants, approvals or heartbeat', async () => {
    const runnerA = login('runner-a');
    const plane = login('plane-1');
    await login('runner-b').query(INSERT_REQUEST, ['own-b-3', 'runner-b']);
    await plane.query(INSERT_APPROVAL, ['own-b-3', 'user:bob']);
    await plane.query(`INSERT INTO grants (id, request_id, resource, lease_ids, status, created_at, expires_at, updated_at, owner_node)
      VALUES ('g-b-3', 'own-b-3', 'prod-db', '[]', 'live', 1, 2, 1, 'runner-b')`);
    await login('runner-b').query("INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ('runner-b', 1, 1)");
    const owners = await runnerA.query<{ owner_node: string }>('SELECT DISTINCT owner_node FROM requests');
    assert.deepEqual(owners.rows.map((r) => r.owner_node), ['runner-a']);
    assert.equal((await runnerA.query("SELECT 1 FROM requests WHERE id = 'own-b-3'")).rowCount, 0);
    assert.equal((await runnerA.query("SELECT 1 FROM grants WHERE owner_node <> 'runner-a'")).rowCount, 0);
    assert.equal((await runnerA.query("SELECT 1 FROM approvals WHERE request_id = 'own-b-3'")).rowCount, 0);
    assert.equal((await runnerA.query("SELECT 1 FROM nodes WHERE id = 'runner-b'")).rowCount, 0);
    // ...and the store reading as runner-a sees none of them either.
    const store = stores[0];
    assert.ok(store);
    assert.equal(await store.getRequest('own-b-3'), undefined);
    assert.ok((await store.listRequests({})).every((r) => r.ownerNode === 'runner-a'));
  });

  it('a runner keeps only its own heartbeat row and cannot touch the wrapped grants of another node', async () => {
    const runnerA = login('runner-a');
    await runnerA.query("INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ('runner-a', 1, 1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at");
    await runnerA.query("INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ('runner-a', 1, 7) ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, dead_at = NULL");
    await denied(runnerA.query("INSERT INTO nodes (id, started_at, heartbeat_at) VALUES ('runner-c', 1, 1)"), /row-level security policy for table "nodes"/);
    assert.equal((await runnerA.query("UPDATE nodes SET dead_at = 9 WHERE id = 'runner-b'")).rowCount, 0);
    await denied(runnerA.query("DELETE FROM nodes WHERE id = 'runner-a'"), /permission denied for table nodes/);

    const plane = login('plane-1');
    await plane.query(`INSERT INTO wrapped_grants (grant_id, request_id, owner_node, wrapping_token, wrapping_accessor, wrap_expires_at, created_at)
      VALUES ('g-b-3', 'own-b-3', 'runner-b', 'hvs.wrap-b', 'wacc-b', 9, 1)`);
    await denied(runnerA.query(`INSERT INTO wrapped_grants (grant_id, request_id, owner_node, wrapping_token, wrapping_accessor, wrap_expires_at, created_at)
      VALUES ('g-b-3', 'own-b-3', 'runner-a', 'x', 'y', 9, 1)`), /permission denied for table wrapped_grants/);
    assert.equal((await runnerA.query('SELECT wrapping_token FROM wrapped_grants')).rowCount, 0);
    assert.equal((await runnerA.query("DELETE FROM wrapped_grants WHERE grant_id = 'g-b-3'")).rowCount, 0);
    const mine = await login('runner-b').query<{ wrapping_token: string }>('SELECT wrapping_token FROM wrapped_grants');
    assert.deepEqual(mine.rows, [{ wrapping_token: 'hvs.wrap-b' }]);
    assert.equal((await login('runner-b').query("DELETE FROM wrapped_grants WHERE grant_id = 'g-b-3'")).rowCount, 1);
  });

  it('a runner cannot create objects or change the schema', async () => {
    const runnerA = login('runner-a');
    await denied(runnerA.query('CREATE TABLE sneaky (x int)'), /permission denied for schema public/);
    await denied(runnerA.query('ALTER TABLE requests DISABLE ROW LEVEL SECURITY'), /must be owner of table requests/);
    await denied(runnerA.query('UPDATE jitgate_schema SET version = 0'), /permission denied for table jitgate_schema/);
  });
});

describe('fleet roles: the plane', () => {
  it('reads and writes every node’s rows: requests, approvals, grants, break-glass, nodes', async () => {
    const plane = login('plane-1');
    await plane.query(INSERT_REQUEST, ['plane-made-a', 'runner-a']);
    await plane.query(INSERT_APPROVAL, ['plane-made-a', 'user:carol']);
    await plane.query("UPDATE approvals SET decision = 'deny' WHERE request_id = 'plane-made-a'");
    assert.equal((await plane.query("UPDATE requests SET status = 'approved' WHERE id IN ('plane-made-a', 'own-b-2')")).rowCount, 2);
    await plane.query(`INSERT INTO break_glass (request_id, record) VALUES ('plane-made-a', '{}')`);
    assert.equal((await plane.query("UPDATE nodes SET dead_at = 10 WHERE id = 'runner-b'")).rowCount, 1);
    const owners = await plane.query<{ owner_node: string }>('SELECT DISTINCT owner_node FROM requests ORDER BY owner_node');
    assert.deepEqual(owners.rows.map((r) => r.owner_node), ['runner-a', 'runner-b']);
    assert.ok(((await plane.query('SELECT 1 FROM grants')).rowCount ?? 0) >= 2);
    // The plane daemon's own store (migrations included) works as the plane login.
    const store = await openPostgresStore({ url: urlFor('plane-1'), node: 'plane-1' });
    stores.push(store);
    assert.equal((await store.getRequest('own-b-2'))?.status, 'approved');
    assert.deepEqual((await store.listApprovals('plane-made-a')).map((a) => a.decision), ['deny']);
  });
});
