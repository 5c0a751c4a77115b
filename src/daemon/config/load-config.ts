import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, errorMessage } from '../../common/errors.js';
import { checkDocument, type ParseOptions } from './config-document.js';
import { firstProblemError } from './config-problem.js';
import type { Config } from './types.js';

export type { ParseOptions } from './config-document.js';

/**
 * Parses a config file's text and runs the document checks (schema, cross-references) only:
 * for tools that read a config (policy explain, tests). The daemon and `check-config` use
 * `checkConfig`, which checks everything and reports every problem. Throws ConfigError naming the
 * first problem by its key path. The result is deep-frozen.
 */
export function parseConfig(text: string, options: ParseOptions): Config {
  const { config, problems } = checkDocument(text, options);
  if (config === undefined) throw firstProblemError(problems.items);
  return config;
}

/** Reads a config file's text; ConfigError when it cannot be read. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('', `cannot read ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/** Reads and parses a config file; relative paths in it resolve against the file's directory. */
export async function loadConfig(path: string): Promise<Config> {
  return parseConfig(await readConfigText(path), { source: path, baseDir: dirname(resolve(path)) });
}
