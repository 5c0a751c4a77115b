import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const run = promisify(execFile);
const unit = fileURLToPath(new URL('../../deploy/jitgated.service', import.meta.url));
const deploy = (name: string): Promise<string> => readFile(new URL(`../../deploy/${name}`, import.meta.url), 'utf8');

/** The value of `key=` in a unit file (the last one wins, as in systemd); undefined when absent. */
function setting(text: string, key: string): string | undefined {
  const values = [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
  return values.at(-1);
}

/** systemd-analyze's own score (0 = locked down, 10 = exposed) for the shipped unit. */
async function exposure(): Promise<number> {
  const { stdout } = await run('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { cwd: '/tmp' });
  const match = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(stdout);
  assert.ok(match?.[1], `no score in systemd-analyze output:\n${stdout}`);
  return Number(match[1]);
}

describe('deploy/jitgated.service', () => {
  it('scores at most 2.0 in systemd-analyze security', async () => {
    const score = await exposure();
    assert.ok(score <= 2.0, `exposure ${score} is above 2.0`);
  });

  it('keeps what Node needs and says why', async () => {
    const text = await readFile(unit, 'utf8');
    // V8's JIT writes and then executes code pages; MemoryDenyWriteExecute=yes kills the daemon at start.
    assert.match(text, /^MemoryDenyWriteExecute=no$/m);
    assert.match(text, /^# Node's JIT compiler needs writable\+executable memory/m);
    // Runners reach the socket through the group that owns the runtime directory.
    assert.match(text, /^Group=jitgate$/m);
    assert.match(text, /^RuntimeDirectoryMode=0710$/m);
    assert.match(text, /^CapabilityBoundingSet=$/m);
  });

  it('agrees with the socket unit, the example config and the tmpfiles entry on path, group and modes', async () => {
    const [service, socket, example, tmpfiles] = await Promise.all([
      readFile(unit, 'utf8'),
      deploy('jitgated.socket'),
      deploy('jitgated.example.yaml'),
      deploy('deb/tmpfiles.conf'),
    ]);
    const listen = (parse(example) as { listen: { socket: string; socket_mode: string; socket_group: string } }).listen;
    const group = setting(service, 'Group');
    assert.equal(group, 'jitgate');
    // The daemon gives the socket listen.socket_group; under PrivateUsers only the unit's Group= can be it.
    assert.equal(listen.socket_group, group);
    assert.equal(listen.socket, '/run/jitgated/jitgated.sock');
    assert.equal(listen.socket_mode, '0660');
    // jitgated.socket (systemd creates the socket): the same path, owner, group and mode.
    assert.equal(setting(socket, 'ListenStream'), listen.socket);
    assert.equal(setting(socket, 'SocketUser'), setting(service, 'User'));
    assert.equal(setting(socket, 'SocketGroup'), group);
    assert.equal(setting(socket, 'SocketMode'), listen.socket_mode);
    assert.equal(setting(socket, 'WantedBy'), 'sockets.target');
    // The socket lives in the RuntimeDirectory, which must survive the service's stop for the socket unit.
    assert.equal(`/run/${setting(service, 'RuntimeDirectory') ?? ''}/jitgated.sock`, listen.socket);
    assert.equal(setting(service, 'RuntimeDirectoryPreserve'), 'yes');
    assert.match(tmpfiles, new RegExp(`^d /run/jitgated +${setting(service, 'RuntimeDirectoryMode') ?? ''} jitgated ${group} -$`, 'm'));
  });
});
