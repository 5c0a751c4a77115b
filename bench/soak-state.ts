import { stat } from 'node:fs/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';

export type SoakStateKind = 'sqlite' | 'postgres';

export interface SoakState {
  /** The daemon config's `state:` section. */
  readonly config: Readonly<Record<string, string>>;
  /** Bytes the state takes now: the SQLite file plus its -wal, or pg_database_size. */
  size(): Promise<number>;
  close(): Promise<void>;
}

const DATABASE = 'jitgate_soak_state';

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    // No -wal file between checkpoints is normal.
    return 0;
  }
}

/**
 * The daemon's state store for a soak: a SQLite file under `dir`, or a fresh database on the
 * bench's PostgreSQL (the one behind the database engine; `superuserUrl` carries its password,
 * which the daemon reads from a file, never from its config).
 */
export async function prepareSoakState(kind: SoakStateKind, dir: string, superuserUrl: string): Promise<SoakState> {
  if (kind === 'sqlite') {
    const file = join(dir, 'state.db');
    return {
      config: { sqlite: file },
      size: async () => (await fileSize(file)) + (await fileSize(`${file}-wal`)),
      close: () => Promise.resolve(),
    };
  }
  const admin = new pg.Client({ connectionString: superuserUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${DATABASE}`);
    await admin.query(`CREATE DATABASE ${DATABASE}`);
  } catch (err) {
    await admin.end();
    throw err;
  }
  const u = new URL(superuserUrl);
  const passwordFile = join(dir, 'pg-password');
  await writeFile(passwordFile, decodeURIComponent(u.password), { mode: 0o600 });
  return {
    config: { postgres: `postgres://${u.username}@${u.host}/${DATABASE}`, password_file: passwordFile },
    size: async () => {
      const res = await admin.query<{ bytes: string }>('SELECT pg_database_size($1) AS bytes', [DATABASE]);
      return Number(res.rows[0]?.bytes ?? Number.NaN);
    },
    close: () => admin.end(),
  };
}
