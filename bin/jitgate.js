#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a checkout, the compiled dist/ in an installed package
// (the same rule as bin/jitgated.js: a checkout's stale dist/ never shadows its sources).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { hideBin } from 'yargs/helpers';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'cli.ts');
let mod;
if (existsSync(source)) {
  const { tsImport } = await import('tsx/esm/api');
  mod = await tsImport(pathToFileURL(source).href, import.meta.url);
} else {
  mod = await import(pathToFileURL(join(root, 'dist', 'src', 'cli', 'cli.js')).href);
}
const code = await mod.main(hideBin(process.argv), { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.exitCode = code;
setTimeout(() => process.exit(code), 2_000).unref();
