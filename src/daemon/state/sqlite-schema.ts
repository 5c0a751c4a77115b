import type { Database } from 'better-sqlite3';
import { UnavailableError } from '../../common/errors.js';

/**
 * Migrations, in order; `PRAGMA user_version` holds how many have been applied. Append only:
 * an applied migration is never edited, because databases in the field already ran it.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE requests (
    id            TEXT PRIMARY KEY NOT NULL,
    resource      TEXT NOT NULL,
    reason        TEXT NOT NULL,
    context       TEXT NOT NULL CHECK (json_valid(context)),
    claimed       TEXT NOT NULL CHECK (json_valid(claimed)),
    ttl_ms        INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending','approved','granted','released','denied','expired')),
    status_reason TEXT,
    rule          TEXT,
    require       TEXT CHECK (require IS NULL OR json_valid(require)),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  -- The rowid rides along in every index, so (created_at DESC, rowid DESC) is served by these.
  CREATE INDEX requests_by_created ON requests (created_at);
  CREATE INDEX requests_by_status ON requests (status, created_at);

  CREATE TABLE approvals (
    request_id TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    subject    TEXT NOT NULL,
    name       TEXT NOT NULL,
    trust      TEXT NOT NULL,
    decision   TEXT NOT NULL CHECK (decision IN ('approve','deny')),
    comment    TEXT,
    at         INTEGER NOT NULL,
    UNIQUE (request_id, subject)
  );

  CREATE TABLE grants (
    id         TEXT PRIMARY KEY NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    resource   TEXT NOT NULL,
    accessor   TEXT,
    lease_ids  TEXT NOT NULL CHECK (json_valid(lease_ids)),
    status     TEXT NOT NULL CHECK (status IN ('minting','live','revoking','revoked','revoke_failed')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX grants_by_status ON grants (status, created_at);
  CREATE INDEX grants_by_request ON grants (request_id);

  -- A rowid table on purpose: the purge deletes in rowid-addressed batches.
  CREATE TABLE token_ids (
    issuer     TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, jti)
  );
  CREATE INDEX token_ids_by_expiry ON token_ids (expires_at);
  `,
  // 2: break-glass grants and their after-the-fact review (one record per request, JSON).
  `
  CREATE TABLE break_glass (
    request_id TEXT PRIMARY KEY NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    record     TEXT NOT NULL CHECK (json_valid(record)),
    reviewed   INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1))
  );
  CREATE INDEX break_glass_unreviewed ON break_glass (reviewed);
  `,
  // Where each decision entered (cli, web, slack, webhook). Older rows stay NULL: read as their trust implies.
  `ALTER TABLE approvals ADD COLUMN channel TEXT`,
];

/**
 * Brings the schema up to date inside one IMMEDIATE transaction per step, so two processes opening
 * the same file cannot both migrate. A database from a newer jitgate is refused: guessing at a
 * schema we do not know is not failing closed.
 */
export function migrateSqlite(db: Database, path: string): void {
  const target = SQLITE_MIGRATIONS.length;
  const version = () => db.pragma('user_version', { simple: true }) as number;
  if (version() > target) {
    throw new UnavailableError(
      `state store ${path}: schema version ${version()} is newer than this jitgate supports (${target})`,
    );
  }
  for (;;) {
    const done = db
      .transaction(() => {
        const current = version();
        const step = SQLITE_MIGRATIONS[current];
        if (current >= target || step === undefined) return true;
        db.exec(step);
        db.pragma(`user_version = ${current + 1}`);
        return false;
      })
      .immediate();
    if (done) return;
  }
}
