import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstat, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { Proc, ROOT } from '../support/daemon-process.js';

const DAEMON = join(ROOT, 'src/daemon/main.ts');

let dir = '';

/** A daemon config whose `listen.socket` is `socket`; Vault is never reached (health needs none). */
async function writeConfig(socket: string): Promise<string> {
  await writeFile(join(dir, 'vault-token'), 'hvs.unused\n', { mode: 0o600 });
  const file = join(dir, 'jitgated.yaml');
  await writeFile(
    file,
    `listen: { socket: ${socket} }
state: { sqlite: ${join(dir, 'state.db')} }
audit: { file: ${join(dir, 'audit.jsonl')} }
vault: { address: "http://127.0.0.1:1", auth: { token_file: ${join(dir, 'vault-token')} }, timeout: 1s, mint_attempts: 1 }
identity: { local: { context: true, approvers: true } }
resources:
  db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s }
policies:
  - { name: all, decision: deny }
stop_timeout: 5s
`,
  );
  return file;
}

type HealthClient = grpc.Client & {
  Check(req: { service: string }, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

function health(socket: string, service = ''): Promise<string | undefined> {
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as {
    grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => HealthClient } } };
  };
  const client = new pkg.grpc.health.v1.Health(`unix:${socket}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.Check({ service }, { deadline: Date.now() + 10_000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res?.status);
    });
  });
}

function listeningFd(server: Server): number {
  const fd = (server as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  assert.ok(typeof fd === 'number' && fd > 2, 'no descriptor for the listening socket');
  return fd;
}

/**
 * What systemd does, in the test: a listening Unix socket exists before the daemon, and the
 * daemon gets it as fd 3 with LISTEN_FDS=1 and LISTEN_PID=its own pid. The pid is known only
 * once the process exists, so `sh` sets it to its own ($$) and execs node, which keeps that pid.
 * `listenPid` overrides that (a socket meant for another process).
 */
async function startActivated(socket: string, config: string, listenPid?: string): Promise<Proc> {
  // The test binds at a scratch name and moves the socket to its real name once the child holds
  // it: closing our copy then unlinks only the scratch name (libuv unlinks what it bound), and
  // no connection can land on our copy instead of the daemon's.
  const scratch = `${socket}.bind`;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(scratch, resolve);
  });
  const pid = listenPid ?? '$$';
  const child = spawn('sh', ['-c', `LISTEN_PID=${pid} exec "$0" --import tsx "$1" --config "$2"`, process.execPath, DAEMON, config], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LISTEN_FDS: '1' },
    // The listening socket's descriptor, duplicated into the child as fd 3. (spawn takes a stream,
    // not a server, as a handle; the descriptor number is the server handle's own.)
    stdio: ['ignore', 'pipe', 'pipe', listeningFd(server)],
  });
  await rename(scratch, socket);
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return new Proc(child);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jitgate-activation-'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('socket activation (LISTEN_FDS)', () => {
  it('serves the socket passed as fd 3, answers health, and leaves the socket file in place on stop', async () => {
    const socket = join(dir, 'activated.sock');
    const proc = await startActivated(socket, await writeConfig(socket));
    try {
      await proc.waitFor(/jitgated serving/);
      assert.match(proc.stdout + proc.stderr, /serving the socket passed by systemd \(LISTEN_FDS\)/);
      assert.equal(await health(socket), 'SERVING');
      assert.equal(await health(socket, 'jitgate.v1.AccessService'), 'SERVING');
      proc.child.kill('SIGTERM');
      const exit = await proc.exited;
      assert.equal(exit.code, 0, exit.stderr);
      // systemd owns the socket file (and keeps listening on it): the daemon must not unlink it.
      assert.ok((await lstat(socket)).isSocket(), 'the activated socket file was removed');
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('ignores sockets meant for another process (LISTEN_PID is not its pid) and binds listen.socket itself', async () => {
    const passed = join(dir, 'not-mine.sock');
    const own = join(dir, 'own.sock');
    // pid 1 is never the daemon: the variables were inherited, not addressed to it.
    const proc = await startActivated(passed, await writeConfig(own), '1');
    try {
      await proc.waitFor(/jitgated serving/);
      assert.doesNotMatch(proc.stdout + proc.stderr, /passed by systemd/);
      assert.equal(await health(own), 'SERVING');
      proc.child.kill('SIGTERM');
      assert.equal((await proc.exited).code, 0);
      // The socket it bound itself is its own to remove.
      await assert.rejects(lstat(own), { code: 'ENOENT' });
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('refuses a passed TCP socket: gRPC without TLS is never served off the host', async () => {
    const tcp = createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    try {
      const child = spawn('sh', ['-c', 'LISTEN_PID=$$ exec "$0" --import tsx "$1" --config "$2"', process.execPath, DAEMON, await writeConfig(join(dir, 'tcp.sock'))], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LISTEN_FDS: '1' },
        stdio: ['ignore', 'pipe', 'pipe', listeningFd(tcp)],
        // Were it served, the daemon would run on: stopped after a while, its exit code fails the test.
        timeout: 60_000,
      });
      const exit = await new Proc(child).exited;
      assert.equal(exit.code, 1);
      assert.match(exit.stderr, /^jitgated: failed to start: the socket passed as fd 3 \(LISTEN_FDS\) is not a Unix socket$/m);
    } finally {
      await new Promise<void>((resolve) => {
        tcp.close(() => {
          resolve();
        });
      });
    }
  });

  it('refuses to start on more than one passed socket, with one line naming LISTEN_FDS', async () => {
    const socket = join(dir, 'two.sock');
    const config = await writeConfig(socket);
    const child = spawn('sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=2 exec "$0" --import tsx "$1" --config "$2"', process.execPath, DAEMON, config], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = await new Proc(child).exited;
    assert.equal(exit.code, 78);
    assert.equal(exit.stderr, 'jitgated: invalid socket activation environment: LISTEN_FDS: jitgated serves exactly one socket, got 2 (give jitgated.socket one ListenStream=)\n');
  });
});
