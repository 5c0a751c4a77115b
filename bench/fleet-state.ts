import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export interface FleetDatabase {
  readonly name: string;
  /** The `state:` section every daemon of the fleet gets: a URL without a password, and a password file. */
  readonly config: Readonly<Record<string, string>>;
  /** Pending requests in the database now, by owner node (the bench's own check of "10,000 in total"). */
  pendingByNode(): Promise<Record<string, number>>;
  /** Closes the admin connection and drops the database (the daemons must be stopped). */
  close(): Promise<void>;
}

/**
 * A fresh state database for one fleet on the bench's PostgreSQL (the one behind the database
 * engine). `superuserUrl` carries the password; the daemons read it from a file in `dir`, since
 * the config refuses an inline password.
 */
export async function createFleetDatabase(superuserUrl: string, dir: string): Promise<FleetDatabase> {
  const name = `jitgate_fleet_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: superuserUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const u = new URL(superuserUrl);
  const passwordFile = join(dir, `${name}-password`);
  await writeFile(passwordFile, decodeURIComponent(u.password), { mode: 0o600 });
  // The bench's own reads of the state database, as the superuser.
  const readUrl = new URL(superuserUrl);
  readUrl.pathname = `/${name}`;
  return {
    name,
    config: { postgres: `postgres://${u.username}@${u.host}/${name}`, password_file: passwordFile },
    pendingByNode: async () => {
      const client = new pg.Client({ connectionString: readUrl.href });
      await client.connect();
      try {
        const res = await client.query<{ owner_node: string; n: string }>(
          "SELECT owner_node, count(*) AS n FROM requests WHERE status = 'pending' GROUP BY owner_node",
        );
        return Object.fromEntries(res.rows.map((r) => [r.owner_node, Number(r.n)]));
      } finally {
        await client.end();
      }
    },
    close: async () => {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}
