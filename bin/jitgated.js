#!/usr/bin/env node
// Runs the TypeScript sources through tsx in a checkout, the compiled dist/ in an installed package.
import { existsSync } from 'node:fs';

const source = new URL('../src/daemon/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/src/daemon/main.js', import.meta.url).href);
}
