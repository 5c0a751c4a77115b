-- jitgate fleet mode: PostgreSQL roles, privileges and row-level security.
--
-- The recommended fleet shape (`fleet.mint: plane`): runner hosts run untrusted build code, so
-- their daemons hold no standing power. A runner daemon's database login may only create and
-- follow its OWN requests and grants; approvals, decisions and break-glass records are written by
-- the approval plane alone.
--
--   jitgate_plane   group role of the approval-plane daemons: full read/write on every jitgate
--                   table, and owner of them (so a plane daemon applies later migrations).
--   jitgate_runner  group role of the runner daemons. Each runner node logs in as ITS OWN role,
--                   whose name is the node id (`fleet.node`), e.g. runner-a. Row-level security
--                   compares owner_node (and nodes.id) with current_user:
--                     requests, grants   INSERT/SELECT/UPDATE only rows with owner_node = current_user
--                                        (a grant only for one of its own requests)
--                     approvals,
--                     break_glass        SELECT only those of its own requests; never INSERT/UPDATE
--                     nodes              INSERT/SELECT/UPDATE only its own row (id = current_user)
--                     wrapped_grants     SELECT/UPDATE/DELETE only its own (the plane writes them)
--                     token_ids          shared CI-token replay guard: read/write
--                     jitgate_schema     read (the runner never migrates)
--
-- How to apply, as a superuser on the jitgate database, AFTER the schema exists (start one plane
-- daemon first: it migrates), and again after each jitgate upgrade (idempotent):
--
--   psql "postgres://postgres@db/jitgate" -v ON_ERROR_STOP=1 -f deploy/fleet/postgres-roles.sql
--   psql ... -c "CREATE ROLE \"plane-1\" LOGIN PASSWORD '...' IN ROLE jitgate_plane"
--   psql ... -c "CREATE ROLE \"runner-a\" LOGIN PASSWORD '...' IN ROLE jitgate_runner"   -- = fleet.node
--
-- The database should be jitgate's alone: the script revokes CREATE on schema public from PUBLIC,
-- so a runner login cannot create objects (functions, tables) of its own.
--
-- What RLS cannot do for you: a runner may still write anything into its OWN rows (its request's
-- status, context, rule). The plane must therefore decide from the approvals table and its own
-- policy evaluation, never from a status a runner wrote.

BEGIN;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jitgate_plane') THEN
    CREATE ROLE jitgate_plane NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jitgate_runner') THEN
    CREATE ROLE jitgate_runner NOLOGIN;
  END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO jitgate_plane, jitgate_runner;
GRANT CREATE ON SCHEMA public TO jitgate_plane;
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO jitgate_plane, jitgate_runner', current_database());
END
$$;

-- Grants minted on the plane for their owner (fleet.mint: plane): the single-use Vault wrapping
-- token the owner unwraps, and when it stops working. The accessor, lease ids and expiry live in
-- `grants` as for any grant. The lead's migration creates the same table (IF NOT EXISTS).
CREATE TABLE IF NOT EXISTS wrapped_grants (
  grant_id          TEXT PRIMARY KEY REFERENCES grants (id) ON DELETE CASCADE,
  request_id        TEXT NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
  owner_node        TEXT NOT NULL,
  -- Secret (single use): the owner deletes the row once it has unwrapped it.
  wrapping_token    TEXT NOT NULL,
  wrapping_accessor TEXT NOT NULL,
  wrap_expires_at   BIGINT NOT NULL,
  created_at        BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS wrapped_grants_by_owner ON wrapped_grants (owner_node);

-- The plane's own record of what it minted, one per request: runners have no privilege on it, so a
-- runner that rewrites its own grant rows cannot get a second grant out of one approval.
CREATE TABLE IF NOT EXISTS plane_mints (
  request_id TEXT PRIMARY KEY,
  grant_id   TEXT NOT NULL,
  node       TEXT NOT NULL,
  at         BIGINT NOT NULL
);
ALTER TABLE approvals ADD COLUMN IF NOT EXISTS request_digest TEXT;

-- The plane owns the schema: later migrations (ALTER TABLE) run as a plane daemon, and the owner
-- is exempt from row-level security.
ALTER TABLE jitgate_schema OWNER TO jitgate_plane;
ALTER TABLE requests OWNER TO jitgate_plane;
ALTER TABLE approvals OWNER TO jitgate_plane;
ALTER TABLE grants OWNER TO jitgate_plane;
ALTER TABLE token_ids OWNER TO jitgate_plane;
ALTER TABLE break_glass OWNER TO jitgate_plane;
ALTER TABLE nodes OWNER TO jitgate_plane;
ALTER TABLE wrapped_grants OWNER TO jitgate_plane;
ALTER TABLE plane_mints OWNER TO jitgate_plane;

GRANT ALL ON jitgate_schema, requests, approvals, grants, token_ids, break_glass, nodes, wrapped_grants, plane_mints TO jitgate_plane;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO jitgate_plane;

-- Runner privileges: nothing beyond what its policies below allow; no DELETE anywhere but its
-- own wrapped grants and the expired token ids.
REVOKE ALL ON jitgate_schema, requests, approvals, grants, token_ids, break_glass, nodes, wrapped_grants, plane_mints FROM jitgate_runner;
GRANT SELECT ON jitgate_schema TO jitgate_runner;
GRANT SELECT, INSERT, UPDATE ON requests, grants, nodes TO jitgate_runner;
GRANT SELECT ON approvals, break_glass TO jitgate_runner;
GRANT SELECT, UPDATE, DELETE ON wrapped_grants TO jitgate_runner;
GRANT SELECT, INSERT, UPDATE, DELETE ON token_ids TO jitgate_runner;
GRANT USAGE ON SEQUENCE requests_seq_seq, grants_seq_seq TO jitgate_runner;

ALTER TABLE requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE approvals ENABLE ROW LEVEL SECURITY;
ALTER TABLE grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE break_glass ENABLE ROW LEVEL SECURITY;
ALTER TABLE nodes ENABLE ROW LEVEL SECURITY;
ALTER TABLE wrapped_grants ENABLE ROW LEVEL SECURITY;

-- The plane sees and writes everything (explicit, in case a plane login is not the tables' owner).
DROP POLICY IF EXISTS plane_all ON requests;
CREATE POLICY plane_all ON requests FOR ALL TO jitgate_plane USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS plane_all ON approvals;
CREATE POLICY plane_all ON approvals FOR ALL TO jitgate_plane USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS plane_all ON grants;
CREATE POLICY plane_all ON grants FOR ALL TO jitgate_plane USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS plane_all ON break_glass;
CREATE POLICY plane_all ON break_glass FOR ALL TO jitgate_plane USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS plane_all ON nodes;
CREATE POLICY plane_all ON nodes FOR ALL TO jitgate_plane USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS plane_all ON wrapped_grants;
CREATE POLICY plane_all ON wrapped_grants FOR ALL TO jitgate_plane USING (true) WITH CHECK (true);

-- Requests: a runner's own, and it cannot hand one to another node (WITH CHECK on UPDATE).
DROP POLICY IF EXISTS runner_select ON requests;
CREATE POLICY runner_select ON requests FOR SELECT TO jitgate_runner USING (owner_node = current_user);
DROP POLICY IF EXISTS runner_insert ON requests;
CREATE POLICY runner_insert ON requests FOR INSERT TO jitgate_runner WITH CHECK (owner_node = current_user);
DROP POLICY IF EXISTS runner_update ON requests;
CREATE POLICY runner_update ON requests FOR UPDATE TO jitgate_runner
  USING (owner_node = current_user) WITH CHECK (owner_node = current_user);

-- Grants: its own, and only for one of its own requests (the subquery sees only those).
DROP POLICY IF EXISTS runner_select ON grants;
CREATE POLICY runner_select ON grants FOR SELECT TO jitgate_runner USING (owner_node = current_user);
DROP POLICY IF EXISTS runner_insert ON grants;
CREATE POLICY runner_insert ON grants FOR INSERT TO jitgate_runner
  WITH CHECK (owner_node = current_user AND EXISTS (SELECT 1 FROM requests r WHERE r.id = grants.request_id));
DROP POLICY IF EXISTS runner_update ON grants;
CREATE POLICY runner_update ON grants FOR UPDATE TO jitgate_runner
  USING (owner_node = current_user) WITH CHECK (owner_node = current_user);

-- Approvals and break-glass records: read-only, and only those of its own requests.
DROP POLICY IF EXISTS runner_select ON approvals;
CREATE POLICY runner_select ON approvals FOR SELECT TO jitgate_runner
  USING (EXISTS (SELECT 1 FROM requests r WHERE r.id = approvals.request_id));
DROP POLICY IF EXISTS runner_select ON break_glass;
CREATE POLICY runner_select ON break_glass FOR SELECT TO jitgate_runner
  USING (EXISTS (SELECT 1 FROM requests r WHERE r.id = break_glass.request_id));

-- Heartbeats: its own row only (it may clear its own dead_at when it rejoins).
DROP POLICY IF EXISTS runner_own ON nodes;
CREATE POLICY runner_own ON nodes FOR ALL TO jitgate_runner USING (id = current_user) WITH CHECK (id = current_user);

-- Wrapped grants: the plane writes them; the owner reads and deletes its own.
DROP POLICY IF EXISTS runner_own ON wrapped_grants;
CREATE POLICY runner_own ON wrapped_grants FOR ALL TO jitgate_runner
  USING (owner_node = current_user) WITH CHECK (owner_node = current_user);

COMMIT;
