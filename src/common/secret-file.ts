import { readFile } from 'node:fs/promises';
import { ConfigError } from './errors.js';

/** Reads a secret from a file; one trailing newline (as editors and `echo` add) is not part of it. */
export async function readSecretFile(path: string, keyPath: string): Promise<string> {
  let value: string;
  try {
    value = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(keyPath, `cannot read the secret file ${JSON.stringify(path)}`, { cause: err });
  }
  value = value.replace(/\r?\n$/, '');
  if (value === '') throw new ConfigError(keyPath, `the secret file ${JSON.stringify(path)} is empty`);
  return value;
}
