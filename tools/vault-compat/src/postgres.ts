import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from './embedded-postgres-loader.js';
import { freePort } from './free-port.js';

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  /** Superuser. */
  readonly user: string;
  readonly password: string;
  /** postgres://user:password@127.0.0.1:port/postgres */
  readonly url: string;
  /** The cluster's data directory (its `postmaster.pid` names the server process). */
  readonly dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL cluster (embedded-postgres) in a temp directory on a free port.
 * PostgreSQL refuses to run as root, so under root the library's `postgres` system user is used
 * (created on first use); in a private checkout its binaries are staged where that user can reach
 * them (embedded-postgres-loader.ts).
 */
export async function startPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-pg-'));
  const host = '127.0.0.1';
  const user = 'postgres';
  const password = randomBytes(18).toString('base64url');
  const logs: string[] = [];
  const remember = (message: unknown): void => {
    logs.push(String(message));
    if (logs.length > 200) logs.shift();
  };
  const isRoot = process.getuid?.() === 0;
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  let attempt = 0;
  for (;;) {
    attempt += 1;
    const port = await freePort(host);
    const dataDir = join(dir, `data-${attempt}`);
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: isRoot,
      postgresFlags: ['-c', `listen_addresses=${host}`, '-c', `unix_socket_directories=${dataDir}`, '-c', 'fsync=off'],
      onLog: remember,
      onError: remember,
    });
    try {
      if (isRoot) {
        // The data dir is created and chowned by the library; its parent must be traversable.
        await import('node:fs/promises').then((fs) => fs.chmod(dir, 0o755));
      }
      await pg.initialise();
      await pg.start();
    } catch (err) {
      await pg.stop().catch(() => undefined);
      // Another process may have taken the port between freePort() and start(): try another.
      if (attempt < 3) continue;
      await rm(dir, { recursive: true, force: true });
      throw new Error(`embedded PostgreSQL failed to start: ${logs.slice(-5).join(' | ')}`, { cause: err });
    }
    let stopped = false;
    return {
      host,
      port,
      user,
      password,
      url: `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/postgres`,
      dataDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await pg.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
