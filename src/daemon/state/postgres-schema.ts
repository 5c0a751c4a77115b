import type { PoolClient } from 'pg';
import { UnavailableError } from '../../common/errors.js';

/**
 * PostgreSQL migrations, in order; `jitgate_schema.version` holds how many have been applied.
 * Append only. Epoch milliseconds are BIGINT; `seq` gives "newest first" a stable tie-break, as
 * the rowid does in SQLite.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE requests (
    seq           BIGSERIAL NOT NULL,
    id            TEXT PRIMARY KEY,
    resource      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    context       JSONB NOT NULL,
    claimed       JSONB NOT NULL,
    ttl_ms        BIGINT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending','approved','granted','released','denied','expired')),
    status_reason TEXT,
    rule          TEXT,
    require       JSONB,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
  );
  CREATE INDEX requests_by_created ON requests (created_at DESC, seq DESC);
  CREATE INDEX requests_by_status ON requests (status, created_at DESC, seq DESC);

  CREATE TABLE approvals (
    seq        BIGSERIAL NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    name       TEXT NOT NULL,
    trust      TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('approve','deny')),
    comment    TEXT,
    at         BIGINT NOT NULL,
    UNIQUE (request_id, subject)
  );

  CREATE TABLE grants (
    seq        BIGSERIAL NOT NULL,
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (id),
    resource   TEXT NOT NULL,
    accessor   TEXT,
    lease_ids  JSONB NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('minting','live','revoking','revoked','revoke_failed')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX grants_by_status ON grants (status, created_at, seq);
  CREATE INDEX grants_by_request ON grants (request_id);

  CREATE TABLE token_ids (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti)
  );
  CREATE INDEX token_ids_by_expiry ON token_ids (expires_at);
  `,
  // 2: break-glass grants and their after-the-fact review (one record per request).
  `
  CREATE TABLE break_glass (
    seq        BIGSERIAL NOT NULL,
    request_id TEXT PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    record     JSONB NOT NULL,
    reviewed   BOOLEAN NOT NULL DEFAULT false
  );
  CREATE INDEX break_glass_unreviewed ON break_glass (reviewed, seq);
  `,
  // Where each decision entered (cli, web, slack, webhook). Older rows stay NULL: read as their trust implies.
  `ALTER TABLE approvals ADD COLUMN channel TEXT`,
  // 4: fleet mode. Each request and grant names the daemon that owns it ('' on a single host);
  // each approval the daemon that recorded it, and the approver's groups (for every_group across
  // the fleet). `nodes` holds the heartbeats the fleet sweeper judges liveness by.
  `
  ALTER TABLE requests ADD COLUMN owner_node TEXT NOT NULL DEFAULT '';
  -- Epoch ms by the DATABASE's clock of the last decision another daemon wrote: the owner's
  -- reconcile finds what a lost notification did not tell it, with no clock skew between hosts.
  ALTER TABLE requests ADD COLUMN changed_at BIGINT NOT NULL DEFAULT 0;
  CREATE INDEX requests_by_change ON requests (owner_node, changed_at);
  ALTER TABLE grants ADD COLUMN owner_node TEXT NOT NULL DEFAULT '';
  ALTER TABLE approvals ADD COLUMN node TEXT NOT NULL DEFAULT '';
  ALTER TABLE approvals ADD COLUMN groups JSONB;
  CREATE INDEX requests_by_owner ON requests (owner_node, status);
  CREATE INDEX grants_by_owner ON grants (owner_node, status);
  CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    -- Set by the fleet sweeper when the heartbeat lapsed: the node's grants were revoked for it.
    dead_at      BIGINT
  );
  `,
  // 5: fleet.mint: plane. The approval plane mints for a runner and leaves it only the single-use
  // wrapping token (secret; deleted once unwrapped). IF NOT EXISTS: deploy/fleet/postgres-roles.sql
  // may have created it first.
  `
  CREATE TABLE IF NOT EXISTS wrapped_grants (
    grant_id          TEXT PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
    request_id        TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    owner_node        TEXT NOT NULL,
    wrapping_token    TEXT NOT NULL,
    wrapping_accessor TEXT NOT NULL,
    wrap_expires_at   BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS wrapped_grants_by_owner ON wrapped_grants (owner_node);
  -- What each approver approved (a digest of the request as it stood): a runner can rewrite its own
  -- request row, and the plane mints only if the row still is what was approved.
  ALTER TABLE approvals ADD COLUMN IF NOT EXISTS request_digest TEXT;
  -- The plane's own record of what it minted, one per request (runners get no privilege on it).
  CREATE TABLE IF NOT EXISTS plane_mints (
    request_id TEXT PRIMARY KEY,
    grant_id   TEXT NOT NULL,
    node       TEXT NOT NULL,
    at         BIGINT NOT NULL
  );
  `,
];

/** Arbitrary constant: the advisory lock that serialises migrations across a fleet of daemons. */
const MIGRATION_LOCK = 0x6a697467; // "jitg"

/**
 * Brings the schema up to date in one transaction under an advisory lock, so daemons starting
 * together do not race. A database from a newer jitgate is refused.
 */
export async function migratePostgres(client: PoolClient, where: string): Promise<void> {
  const target = POSTGRES_MIGRATIONS.length;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    // Only when absent: a fleet runner's login (deploy/fleet/postgres-roles.sql) may not create
    // anything, and PostgreSQL checks that right even for IF NOT EXISTS on an existing table.
    const { rows: present } = await client.query<{ t: string | null }>("SELECT to_regclass('jitgate_schema')::text AS t");
    if (present[0]?.t == null) await client.query('CREATE TABLE IF NOT EXISTS jitgate_schema (version INTEGER NOT NULL)');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM jitgate_schema');
    let version = rows[0]?.version ?? 0;
    if (rows.length === 0) await client.query('INSERT INTO jitgate_schema (version) VALUES (0)');
    if (version > target) {
      throw new UnavailableError(`state store ${where}: schema version ${version} is newer than this jitgate supports (${target})`);
    }
    for (; version < target; version++) {
      await client.query(POSTGRES_MIGRATIONS[version] ?? '');
      await client.query('UPDATE jitgate_schema SET version = $1', [version + 1]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
