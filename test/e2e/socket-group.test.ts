import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Proc, ROOT } from '../support/daemon-process.js';

/**
 * The bug this guards: runners in the socket's group got EACCES because the daemon left the socket
 * and its directory in its own primary group. Real users and a real daemon process under the
 * daemon's uid (the tests run as root): the kernel's permission checks are what is tested.
 */
const run = promisify(execFile);
const DAEMON = join(ROOT, 'src/daemon/main.ts');
const PROBE = join(ROOT, 'test/support/socket-probe.mjs');

const tag = randomBytes(3).toString('hex');
const GROUP = `jitgate-t${tag}`;
const DAEMON_USER = `jitgated-t${tag}`;
const RUNNER = `runner-t${tag}`;
const OUTSIDER = `outsider-t${tag}`;
const USERS = [DAEMON_USER, RUNNER, OUTSIDER];

interface Ids {
  readonly uid: number;
  readonly gid: number;
}

let base = '';
let groupGid = -1;
const ids = new Map<string, Ids>();

/** useradd/groupadd take a lock on /etc/passwd; another test on the host may hold it for a moment. */
async function admin(command: string, args: readonly string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await run(command, args);
      return;
    } catch (err) {
      if (attempt >= 10 || !/lock|try again/i.test(String((err as { stderr?: unknown }).stderr))) throw err;
      await sleep(200 * attempt);
    }
  }
}

async function idsOf(user: string): Promise<Ids> {
  const [uid, gid] = await Promise.all([run('id', ['-u', user]), run('id', ['-g', user])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

async function removeUsers(): Promise<void> {
  // Each on its own: one that was never created (or is already gone) must not keep the rest.
  for (const user of USERS) await admin('userdel', [user]).catch(() => undefined);
  for (const group of [GROUP, ...USERS]) await admin('groupdel', [group]).catch(() => undefined);
}

/** Runs `argv` as `user` with that user's supplementary groups (spawn's uid/gid would drop them). */
function asUser(user: string, argv: readonly string[]): string[] {
  return ['--reuid', user, '--regid', user, '--init-groups', '--', ...argv];
}

/** The probe, as `user`: the raw connect's error code, or the health answer through the socket. */
async function probe(user: string, socket: string): Promise<{ uid: number; connected: boolean; code?: string; health?: string }> {
  const { stdout } = await run('setpriv', asUser(user, [process.execPath, PROBE, socket]), { cwd: ROOT, timeout: 30_000 });
  return JSON.parse(stdout) as { uid: number; connected: boolean; code?: string; health?: string };
}

/**
 * A daemon home owned by the daemon user (config, secret, state: 0700) and a runtime directory as
 * systemd's RuntimeDirectory= makes it without Group=: the daemon's user and primary group, 0700.
 */
async function prepare(name: string, listenExtra: string): Promise<{ config: string; runDir: string; socket: string }> {
  const daemon = ids.get(DAEMON_USER);
  assert.ok(daemon);
  const home = join(base, `${name}-home`);
  const runDir = join(base, `${name}-run`);
  const socket = join(runDir, 'jitgated.sock');
  await mkdir(home, { mode: 0o700 });
  await mkdir(runDir, { mode: 0o700 });
  const config = join(home, 'jitgated.yaml');
  await writeFile(join(home, 'vault-token'), 'hvs.unused\n', { mode: 0o600 });
  await writeFile(
    config,
    `listen: { socket: ${socket}${listenExtra} }
state: { sqlite: ${join(home, 'state.db')} }
audit: { file: ${join(home, 'audit.jsonl')} }
vault: { address: "http://127.0.0.1:1", auth: { token_file: ${join(home, 'vault-token')} }, timeout: 1s, mint_attempts: 1 }
resources:
  db: { vault: { policies: [p] }, env: { VAULT_TOKEN: token }, ttl: 60s }
policies:
  - { name: all, decision: deny }
stop_timeout: 5s
`,
    { mode: 0o600 },
  );
  for (const path of [home, runDir, config, join(home, 'vault-token')]) await chown(path, daemon.uid, daemon.gid);
  return { config, runDir, socket };
}

function startDaemonAs(user: string, config: string): Proc {
  return new Proc(
    spawn('setpriv', asUser(user, [process.execPath, '--import', 'tsx', DAEMON, '--config', config]), {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

before(async () => {
  try {
    // Under /tmp, traversable by everyone: the daemon and the runners must reach what is inside.
    base = await mkdtemp('/tmp/jitgate-socket-group-');
    await chmod(base, 0o755);
    await admin('groupadd', [GROUP]);
    await admin('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', '--groups', GROUP, DAEMON_USER]);
    await admin('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', '--groups', GROUP, RUNNER]);
    await admin('useradd', ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', OUTSIDER]);
    for (const user of USERS) ids.set(user, await idsOf(user));
    groupGid = Number((await run('getent', ['group', GROUP])).stdout.split(':')[2]);
  } catch (err) {
    await removeUsers();
    throw err;
  }
});

after(async () => {
  await removeUsers();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('listen.socket_group with real users', () => {
  it('a runner in the group connects and gets an answer; an outsider gets EACCES', async () => {
    const { config, runDir, socket } = await prepare('grouped', `, socket_group: ${GROUP}`);
    const daemon = startDaemonAs(DAEMON_USER, config);
    try {
      await daemon.waitFor(/jitgated serving/, 60_000);
      const sock = await stat(socket);
      assert.equal(sock.uid, ids.get(DAEMON_USER)?.uid, 'the socket is the daemon user\'s');
      assert.equal(sock.gid, groupGid, 'the socket carries socket_group');
      assert.equal(sock.mode & 0o777, 0o660);
      const dir = await stat(runDir);
      assert.equal(dir.gid, groupGid, 'the runtime directory carries socket_group');
      assert.equal(dir.mode & 0o777, 0o710, 'the group may traverse the runtime directory, not list it');

      assert.deepEqual(await probe(RUNNER, socket), { uid: ids.get(RUNNER)?.uid, connected: true, health: 'SERVING' });
      assert.deepEqual(await probe(OUTSIDER, socket), { uid: ids.get(OUTSIDER)?.uid, connected: false, code: 'EACCES' });

      daemon.child.kill('SIGTERM');
      const exit = await daemon.exited;
      assert.equal(exit.code, 0, exit.stderr);
    } finally {
      daemon.child.kill('SIGKILL');
    }
  });

  it('without socket_group the runner is shut out as before: the key is what lets it in', async () => {
    const { config, socket } = await prepare('ungrouped', '');
    const daemon = startDaemonAs(DAEMON_USER, config);
    try {
      await daemon.waitFor(/jitgated serving/, 60_000);
      assert.equal((await stat(socket)).gid, ids.get(DAEMON_USER)?.gid, 'the socket keeps the daemon\'s primary group');
      assert.deepEqual(await probe(RUNNER, socket), { uid: ids.get(RUNNER)?.uid, connected: false, code: 'EACCES' });
    } finally {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  });

  it('a daemon user outside socket_group is a config problem naming the key, before anything starts', async () => {
    const { config } = await prepare('outside', `, socket_group: ${GROUP}`);
    // The same files, handed to a user who is not in the group (the daemon user of a bad install).
    const outsider = ids.get(OUTSIDER);
    assert.ok(outsider);
    for (const name of ['outside-home', 'outside-run', 'outside-home/jitgated.yaml', 'outside-home/vault-token']) {
      await chown(join(base, name), outsider.uid, outsider.gid);
    }
    const proc = startDaemonAs(OUTSIDER, config);
    const exit = await proc.exited;
    assert.equal(exit.code, 78, exit.stderr);
    assert.match(exit.stderr, new RegExp(`^jitgated: invalid config ${config}: listen\\.socket_group: the daemon's user is not in group "${GROUP}"`, 'm'));
  });
});
