/**
 * Bundles the GitHub Action (actions/request-access/src/*.ts) into one file per entry point in
 * actions/request-access/dist/, so the action runs from a checkout without `npm install`.
 * The .proto files are read at run time by the SDK (it walks up from the module to a `proto/`
 * folder), so they are copied next to the bundles.
 *
 *   node --import tsx scripts/build-action.ts [--out DIR]    (default: the committed dist/)
 */
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const ACTION = join(ROOT, 'actions/request-access');

// grpc-js and protobufjs are CommonJS and call require() for built-ins; an ES module has none.
const BANNER = "import { createRequire as __jitgateCreateRequire } from 'node:module';\nconst require = __jitgateCreateRequire(import.meta.url);";

async function buildAction(outDir: string): Promise<void> {
  const entryPoints = readdirSync(join(ACTION, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .sort()
    .map((f) => join(ACTION, 'src', f));
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints,
    outdir: outDir,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    banner: { js: BANNER },
    // node_modules is a symlink in some checkouts; keep the paths in the bundle's comments stable.
    preserveSymlinks: true,
    legalComments: 'inline',
    sourcemap: false,
    logLevel: 'warning',
    logOverride: { 'direct-eval': 'silent' },
  });
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  cpSync(join(ROOT, 'proto'), join(outDir, 'proto'), { recursive: true });
}

const { values } = parseArgs({ options: { out: { type: 'string' } } });
await buildAction(resolve(values.out ?? join(ACTION, 'dist')));
