/**
 * As root (containers, CI) in a checkout under a private directory (mode 0700), `npm start` and the
 * PostgreSQL tests still work: PostgreSQL runs as the `postgres` user, which cannot traverse the
 * checkout, so its binaries are staged where it can reach them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { STAGING_ROOT } from '../../tools/vault-compat/src/embedded-postgres-loader.js';
import { ROOT, type Proc } from '../support/daemon-process.js';
import { checkPrintedCommands, startNpmStart, stopNpmStart } from '../support/npm-start-smoke.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

/** A copy of the working tree (hard links: instant, no disk) inside a fresh 0700 directory. */
async function privateCheckout(): Promise<{ parent: string; root: string }> {
  const parent = await mkdtemp(join(tmpdir(), 'jitgate-private-'));
  await chmod(parent, 0o700);
  const root = join(parent, 'jitgate');
  await mkdir(root);
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, maxBuffer: 16 << 20 });
  const files = stdout.split('\0').filter((f) => f !== '' && f !== 'node_modules');
  for (let i = 0; i < files.length; i += 500) {
    await run('cp', ['--parents', '-l', '-t', root, ...files.slice(i, i + 500)], { cwd: ROOT });
  }
  await run('cp', ['-al', join(ROOT, 'node_modules'), join(root, 'node_modules')]);
  return { parent, root };
}

/**
 * A folder staged by an earlier checkout links that checkout's `pg`; once the checkout is deleted
 * (as this very test deletes its own), the links dangle. Make them dangle now, so the loader must
 * relink them rather than trust a stale folder.
 */
async function orphanStagedLinks(): Promise<void> {
  const staged = await readdir(STAGING_ROOT).catch(() => [] as string[]);
  for (const name of staged.filter((n) => n.startsWith('embedded-postgres-') && !n.includes('.tmp-'))) {
    for (const dep of ['pg', 'async-exit-hook']) {
      const link = join(STAGING_ROOT, name, 'node_modules', dep);
      await rm(link, { force: true });
      await symlink(join(tmpdir(), 'jitgate-deleted-checkout', 'node_modules', dep), link, 'dir');
    }
  }
}

describe('a checkout inside a private (0700) directory, as root', () => {
  let parent: string;
  let root: string;

  before(async () => {
    assert.ok(isRoot, 'this test runs as root, as CI does (PostgreSQL then runs as the postgres user)');
    ({ parent, root } = await privateCheckout());
    assert.equal((await stat(parent)).mode & 0o777, 0o700);
    await orphanStagedLinks();
  });
  after(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  it('starts embedded PostgreSQL, with the binaries staged where the postgres user can reach them', async () => {
    const probe = [
      `import { startPostgres } from ${JSON.stringify(join(root, 'tools/vault-compat/src/postgres.ts'))};`,
      'import pg from "pg";',
      'const server = await startPostgres();',
      'const client = new pg.Client({ connectionString: server.url });',
      'await client.connect();',
      'const { rows } = await client.query("select current_user as who");',
      'console.log("connected as", rows[0].who);',
      'await client.end();',
      'await server.stop();',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: root });
    assert.match(stdout, /connected as postgres/);
    assert.ok((await stat(STAGING_ROOT)).mode & 0o001, `${STAGING_ROOT} is traversable`);
  });

  it('npm start works and its printed commands work as printed', async () => {
    const devDir = await mkdtemp(join(tmpdir(), 'jitgate-dev-'));
    let start: Proc | undefined;
    try {
      start = startNpmStart(root, devDir);
      await checkPrintedCommands(root, devDir, start);
    } finally {
      if (start) await stopNpmStart(start);
      await rm(devDir, { recursive: true, force: true });
    }
  });
});
