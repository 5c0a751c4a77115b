#!/usr/bin/env node
// Runs the TypeScript CLI through tsx when working from source, or the built JS from dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { hideBin } from 'yargs/helpers';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'client', 'cli.js');
let mod;
if (existsSync(built)) {
  mod = await import(pathToFileURL(built).href);
} else {
  const { tsImport } = await import('tsx/esm/api');
  mod = await tsImport(pathToFileURL(join(root, 'src', 'client', 'cli.ts')).href, import.meta.url);
}
const code = await mod.main(hideBin(process.argv), { env: process.env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.exitCode = code;
setTimeout(() => process.exit(code), 2_000).unref();
