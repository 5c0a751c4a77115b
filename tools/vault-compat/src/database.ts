import pg from 'pg';
import { systemClock } from './clock.js';
import { badRequest, errorMessage, noRoute, notFound, unsupportedOperation, VaultApiError } from './api-error.js';
import { childKeys, listReply, noContent, ok, type Core, type Engine, type EngineRequest, type Reply } from './engine.js';
import { randomBase62 } from './ids.js';
import { bool, durationSeconds, optionalString, stringList } from './input.js';
import type { StoredRevoker } from './leases.js';

const PLUGIN = 'postgresql-database-plugin';

interface DbConfig {
  readonly pluginName: string;
  readonly connectionUrl: string;
  readonly username: string;
  readonly allowedRoles: readonly string[];
  /** Kept only so the storage file can reconnect after a restart. */
  readonly password: string;
  readonly pool: pg.Pool;
}

/** The engine's settings as the storage file keeps them (no pools). */
export interface StoredDatabase {
  readonly configs: { name: string; pluginName: string; connectionUrl: string; username: string; password: string; allowedRoles: string[] }[];
  readonly roles: { name: string; dbName: string; creationStatements: string[]; revocationStatements: string[]; defaultTtlS: number; maxTtlS: number }[];
}

interface DbRole {
  readonly dbName: string;
  readonly creationStatements: readonly string[];
  readonly revocationStatements: readonly string[];
  readonly defaultTtlS: number;
  readonly maxTtlS: number;
}

function newPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4, idleTimeoutMillis: 10_000, allowExitOnIdle: true });
  // An idle pooled connection can be killed by the server; that must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Vault splits each statement string on `;` and runs the pieces one by one. */
function splitStatements(statements: readonly string[]): string[] {
  return statements.flatMap((s) => s.split(';')).map((s) => s.trim()).filter((s) => s !== '');
}

function render(statement: string, values: Readonly<Record<string, string>>): string {
  return statement.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);
}

/** `{{expiration}}` as Vault's PostgreSQL plugin formats it: "2006-01-02 15:04:05-0700" in UTC. */
function pgTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}

/**
 * The database secrets engine with the PostgreSQL plugin: each `creds` read creates a real role,
 * and revoking its lease ends the role's sessions and drops it.
 */
export class DatabaseEngine implements Engine {
  readonly type = 'database';
  readonly #core: Core;
  readonly #configs = new Map<string, DbConfig>();
  readonly #roles = new Map<string, DbRole>();
  /** Per connection: concurrent REVOKEs on the same schema fail with "tuple concurrently updated". */
  readonly #revokeQueue = new Map<string, Promise<void>>();

  constructor(core: Core) {
    this.#core = core;
  }

  creates(path: string): boolean {
    const [section, name = ''] = path.split('/');
    if (section === 'config') return !this.#configs.has(name);
    if (section === 'roles') return !this.#roles.has(name);
    return false;
  }

  async handle(req: EngineRequest): Promise<Reply> {
    const [section = '', ...rest] = req.path.split('/');
    const name = rest.join('/');
    const extra = { mount_type: 'database' };
    if (section === 'config' || section === 'roles') {
      const store: Map<string, unknown> = section === 'config' ? this.#configs : this.#roles;
      if (req.method === 'LIST' || (req.method === 'GET' && name === '')) return listReply(childKeys(store.keys(), ''));
      if (name === '') throw noRoute(`${req.mount}${req.path}`);
      if (req.method === 'DELETE') {
        if (section === 'config') {
          await this.#configs.get(name)?.pool.end().catch(() => undefined);
          this.#configs.delete(name);
        } else {
          this.#roles.delete(name);
        }
        return noContent();
      }
      if (req.method === 'GET') {
        if (section === 'config') {
          const c = this.#configs.get(name);
          if (!c) throw notFound();
          return ok({
            plugin_name: c.pluginName,
            connection_details: { connection_url: c.connectionUrl, username: c.username },
            allowed_roles: [...c.allowedRoles],
            root_credentials_rotate_statements: [],
            password_policy: '',
            verify_connection: true,
          }, extra);
        }
        const r = this.#roles.get(name);
        if (!r) throw notFound();
        return ok({
          db_name: r.dbName,
          creation_statements: [...r.creationStatements],
          revocation_statements: [...r.revocationStatements],
          renew_statements: [],
          rollback_statements: [],
          default_ttl: r.defaultTtlS,
          max_ttl: r.maxTtlS,
        }, extra);
      }
      return section === 'config' ? this.#writeConfig(name, req.body) : this.#writeRole(name, req.body);
    }
    if (section === 'creds' && name !== '') {
      if (req.method !== 'GET') throw unsupportedOperation();
      return this.#creds(req, name);
    }
    throw noRoute(`${req.mount}${req.path}`);
  }

  async #writeConfig(name: string, body: Readonly<Record<string, unknown>>): Promise<Reply> {
    const previous = this.#configs.get(name);
    const pluginName = optionalString(body.plugin_name, 'plugin_name') ?? previous?.pluginName ?? '';
    if (pluginName === '') throw badRequest('empty plugin name');
    if (pluginName !== PLUGIN) throw badRequest(`error creating database object: unsupported plugin ${JSON.stringify(pluginName)} (this server supports ${PLUGIN})`);
    const connectionUrl = optionalString(body.connection_url, 'connection_url') ?? previous?.connectionUrl ?? '';
    if (connectionUrl === '') throw badRequest('error creating database object: connection_url cannot be empty');
    const username = optionalString(body.username, 'username') ?? previous?.username ?? '';
    const password = optionalString(body.password, 'password') ?? '';
    const url = render(connectionUrl, { username: encodeURIComponent(username), password: encodeURIComponent(password) });
    const pool = newPool(url);
    if (bool(body.verify_connection, 'verify_connection', true)) {
      try {
        await pool.query('SELECT 1');
      } catch (err) {
        await pool.end().catch(() => undefined);
        throw badRequest(`error creating database object: error verifying connection: ${errorMessage(err)}`, { cause: err });
      }
    }
    await previous?.pool.end().catch(() => undefined);
    this.#configs.set(name, {
      pluginName,
      connectionUrl,
      username,
      allowedRoles: body.allowed_roles === undefined && previous ? previous.allowedRoles : stringList(body.allowed_roles, 'allowed_roles'),
      password,
      pool,
    });
    return noContent();
  }

  #writeRole(name: string, body: Readonly<Record<string, unknown>>): Reply {
    const previous = this.#roles.get(name);
    const dbName = optionalString(body.db_name, 'db_name') ?? previous?.dbName ?? '';
    if (dbName === '') throw badRequest('empty database name attribute');
    const creation = body.creation_statements === undefined && previous ? [...previous.creationStatements] : this.#statements(body.creation_statements, 'creation_statements');
    if (creation.length === 0) throw badRequest('creation statements are required');
    this.#roles.set(name, {
      dbName,
      creationStatements: creation,
      revocationStatements: body.revocation_statements === undefined && previous ? previous.revocationStatements : this.#statements(body.revocation_statements, 'revocation_statements'),
      defaultTtlS: body.default_ttl === undefined && previous ? previous.defaultTtlS : durationSeconds(body.default_ttl, 'default_ttl'),
      maxTtlS: body.max_ttl === undefined && previous ? previous.maxTtlS : durationSeconds(body.max_ttl, 'max_ttl'),
    });
    return noContent();
  }

  #statements(value: unknown, field: string): string[] {
    if (typeof value === 'string') return value.trim() === '' ? [] : [value];
    if (value === undefined || value === null) return [];
    if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
    throw badRequest(`invalid value for ${field}`);
  }

  async #creds(req: EngineRequest, roleName: string): Promise<Reply> {
    const role = this.#roles.get(roleName);
    if (!role) throw badRequest(`unknown role: ${roleName}`);
    const config = this.#configs.get(role.dbName);
    if (!config) throw badRequest(`failed to find entry for connection with name: ${JSON.stringify(role.dbName)}`);
    if (!config.allowedRoles.includes('*') && !config.allowedRoles.includes(roleName)) {
      throw badRequest(`${JSON.stringify(roleName)} is not an allowed role`);
    }
    const core = this.#core;
    const ttlS = core.leases.effectiveTtlS(req.token, role.defaultTtlS, role.maxTtlS);
    if (ttlS <= 0) throw badRequest('token has no time left to issue a lease');
    const displayName = (req.token?.displayName ?? 'token').slice(0, 8);
    const username = `v-${displayName}-${roleName.slice(0, 8)}-${randomBase62(20)}-${Math.floor(core.clock.now() / 1000)}`.slice(0, 63);
    const password = `A1a-${randomBase62(20)}`;
    // PostgreSQL judges VALID UNTIL by its own (real) clock, so the backstop uses real time even
    // when the server runs on an injected clock; the lease timer is what revokes on time.
    const expiration = pgTimestamp(systemClock.now() + ttlS * 1000);
    const values = { name: username, username, password, expiration };
    const client = await this.#connect(config);
    try {
      await client.query('BEGIN');
      for (const statement of splitStatements(role.creationStatements)) await client.query(render(statement, values));
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      // The message could echo a statement with the password in it: keep only PostgreSQL's reason.
      const reason = err instanceof Error && 'code' in err ? `SQLSTATE ${String((err as { code: unknown }).code)}` : 'statement failed';
      throw new VaultApiError(500, [`failed to create user: ${reason}`], { cause: err });
    } finally {
      client.release();
    }
    const stored = { engine: 'database', dbName: role.dbName, username, revocation: [...role.revocationStatements] } as const;
    const lease = core.leases.create(`${req.mount}creds/${roleName}`, req.token, ttlS, role.maxTtlS, this.revokerFor(stored), stored);
    return ok({ username, password }, { lease_id: lease.id, lease_duration: core.leases.ttlS(lease), renewable: true, mount_type: 'database' });
  }

  /** The clean-up of a lease: drop its role (also rebuilds it from the storage file). */
  revokerFor(stored: StoredRevoker): () => Promise<void> {
    return () => this.#serialised(stored.dbName, () => this.#revokeUser(stored.dbName, stored.username, stored.revocation));
  }

  /** Configs and roles for the storage file. */
  exportSettings(): StoredDatabase {
    return {
      configs: [...this.#configs].map(([name, c]) => ({ name, pluginName: c.pluginName, connectionUrl: c.connectionUrl, username: c.username, password: c.password, allowedRoles: [...c.allowedRoles] })),
      roles: [...this.#roles].map(([name, r]) => ({ name, dbName: r.dbName, creationStatements: [...r.creationStatements], revocationStatements: [...r.revocationStatements], defaultTtlS: r.defaultTtlS, maxTtlS: r.maxTtlS })),
    };
  }

  /** Puts back configs and roles from the storage file; connections open lazily (the database may be down). */
  restoreSettings(stored: StoredDatabase): void {
    for (const c of stored.configs) {
      const url = render(c.connectionUrl, { username: encodeURIComponent(c.username), password: encodeURIComponent(c.password) });
      this.#configs.set(c.name, { ...c, pool: newPool(url) });
    }
    for (const r of stored.roles) this.#roles.set(r.name, r);
  }

  #serialised(dbName: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#revokeQueue.get(dbName) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.#revokeQueue.set(dbName, tail);
    void tail.then(() => {
      if (this.#revokeQueue.get(dbName) === tail) this.#revokeQueue.delete(dbName);
    });
    return next;
  }

  async #connect(config: DbConfig): Promise<pg.PoolClient> {
    try {
      return await config.pool.connect();
    } catch (err) {
      throw badRequest(`error connecting to database: ${errorMessage(err)}`, { cause: err });
    }
  }

  async #revokeUser(dbName: string, username: string, statements: readonly string[]): Promise<void> {
    const config = this.#configs.get(dbName);
    if (!config) throw new Error(`no connection ${dbName} to revoke ${username}`);
    const client = await config.pool.connect();
    try {
      await dropPostgresUser(client, username, statements);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#configs.values()].map((c) => c.pool.end().catch(() => undefined)));
    this.#configs.clear();
  }
}

/**
 * Revokes a generated user on an open connection, as a lease revocation does: lock the role, end
 * its sessions, then run the role's `revocation_statements` (or Vault's default revocation) in one
 * transaction, and end any session that slipped in. An absent role is already revoked. Exported for
 * the bench, which times exactly this SQL against PostgreSQL alone.
 */
export async function dropPostgresUser(client: pg.ClientBase, username: string, statements: readonly string[]): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username]);
  if (exists.rowCount === 0) return;
  const ident = client.escapeIdentifier(username);
  // Lock the door first, then end sessions, so no new session slips in before the drop.
  await client.query(`ALTER ROLE ${ident} NOLOGIN`);
  const terminate = async (): Promise<void> => {
    await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()', [username]);
  };
  await terminate();
  await client.query('BEGIN');
  try {
    if (statements.length > 0) {
      for (const statement of splitStatements(statements)) await client.query(render(statement, { name: username, username }));
    } else {
      await defaultPostgresRevocation(client, username);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await terminate();
}

/**
 * Vault's default PostgreSQL revocation (no `revocation_statements`): look up the schemas the role
 * holds grants in, revoke privileges everywhere, then drop the role.
 */
async function defaultPostgresRevocation(client: pg.ClientBase, username: string): Promise<void> {
  const ident = client.escapeIdentifier(username);
  const schemas = await client.query<{ schema: string }>(
    `SELECT DISTINCT table_schema AS schema FROM information_schema.role_column_grants WHERE grantee = $1
     UNION SELECT DISTINCT table_schema FROM information_schema.role_table_grants WHERE grantee = $1`,
    [username],
  );
  for (const { schema } of schemas.rows) {
    const s = client.escapeIdentifier(schema);
    await client.query(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA ${s} FROM ${ident}`);
    await client.query(`REVOKE USAGE ON SCHEMA ${s} FROM ${ident}`);
  }
  await client.query(`REVOKE ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM ${ident}`);
  await client.query(`REVOKE ALL PRIVILEGES ON ALL SEQUENCES IN SCHEMA public FROM ${ident}`);
  await client.query(`REVOKE ALL PRIVILEGES ON ALL FUNCTIONS IN SCHEMA public FROM ${ident}`);
  await client.query(`REVOKE USAGE ON SCHEMA public FROM ${ident}`);
  const db = await client.query<{ db: string }>('SELECT current_database() AS db');
  await client.query(`REVOKE ALL PRIVILEGES ON DATABASE ${client.escapeIdentifier(db.rows[0]?.db ?? 'postgres')} FROM ${ident}`);
  await client.query(`DROP ROLE IF EXISTS ${ident}`);
}
