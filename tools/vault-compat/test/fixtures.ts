import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Shared helpers for the Vault test-server suites. */
export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** Parsed JSON body, or null for an empty body. */
  readonly body: Record<string, unknown> | null;
}

export async function call(
  address: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(`${address}/v1/${path}`, {
    method,
    headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** Asserts the status and returns the body (an object), with the body in the failure message. */
export function expectStatus(res: HttpResult, status: number): Record<string, unknown> {
  assert.equal(res.status, status, `expected HTTP ${status}, got ${res.status}: ${res.text}`);
  return res.body ?? {};
}

export function obj(value: unknown): Record<string, unknown> {
  assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), `expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function str(value: unknown): string {
  assert.equal(typeof value, 'string', `expected a string, got ${JSON.stringify(value)}`);
  return value as string;
}

export const suffix = (): string => randomBytes(4).toString('hex');

/** Replaces user and password in a postgres:// URL. */
export function urlFor(baseUrl: string, user: string, password: string): string {
  const url = new URL(baseUrl);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/** True when a real login with these credentials succeeds. */
export async function canLogin(baseUrl: string, user: string, password: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: urlFor(baseUrl, user, password) });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function roleExists(superuserUrl: string, user: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const res = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
    return res.rowCount === 1;
  } finally {
    await client.end();
  }
}

export const CREATE_ROLE = 'CREATE ROLE "{{name}}" WITH LOGIN PASSWORD \'{{password}}\' VALID UNTIL \'{{expiration}}\';';

/** The connection URL Vault itself uses, with Vault's `{{username}}`/`{{password}}` templating. */
export function templatedUrl(superuserUrl: string): string {
  const url = new URL(superuserUrl);
  return `postgresql://{{username}}:{{password}}@${url.host}${url.pathname}?sslmode=disable`;
}

/** Creates database/config/<name> for `superuserUrl` allowing `roles`, and the roles themselves. */
export async function configureDatabase(
  address: string,
  rootToken: string,
  superuserUrl: string,
  name: string,
  roles: Readonly<Record<string, { defaultTtl: string; maxTtl: string; revocation?: string[] }>>,
): Promise<void> {
  const url = new URL(superuserUrl);
  expectStatus(
    await call(address, rootToken, 'POST', `database/config/${name}`, {
      plugin_name: 'postgresql-database-plugin',
      connection_url: templatedUrl(superuserUrl),
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      allowed_roles: Object.keys(roles),
    }),
    204,
  );
  for (const [role, spec] of Object.entries(roles)) {
    expectStatus(
      await call(address, rootToken, 'POST', `database/roles/${role}`, {
        db_name: name,
        creation_statements: [CREATE_ROLE],
        ...(spec.revocation ? { revocation_statements: spec.revocation } : {}),
        default_ttl: spec.defaultTtl,
        max_ttl: spec.maxTtl,
      }),
      204,
    );
  }
}

/** Enables a secrets engine or auth method; "already in use" counts as done (dev servers pre-mount). */
export async function enable(address: string, rootToken: string, kind: 'mounts' | 'auth', path: string, body: unknown): Promise<void> {
  const res = await call(address, rootToken, 'POST', `sys/${kind}/${path}`, body);
  if (res.status === 204 || res.status === 200) return;
  assert.equal(res.status, 400, res.text);
  assert.match(res.text, /path is already in use/);
}
