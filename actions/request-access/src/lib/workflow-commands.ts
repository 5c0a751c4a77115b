import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { InvalidArgumentError } from '../../../../src/common/errors.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The runner's escaping for command data, as @actions/core does it: the command stays one line. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/**
 * `::add-mask::` lines for one secret. A multi-line value is masked whole (escaped) and line by
 * line, so no line of it can show in the log on its own.
 */
export function maskCommands(value: string): string[] {
  const lines = value.split(/\r?\n/).filter((line) => line.trim() !== '');
  const whole = `::add-mask::${escapeData(value)}`;
  return lines.length > 1 ? [whole, ...lines.map((line) => `::add-mask::${escapeData(line)}`)] : [whole];
}

export function errorCommand(message: string): string {
  return `::error::${escapeData(message)}`;
}

export function warningCommand(message: string): string {
  return `::warning::${escapeData(message)}`;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One `NAME<<DELIM` entry of a file command ($GITHUB_ENV, $GITHUB_STATE, $GITHUB_OUTPUT). The
 * delimiter is random, so a value cannot end the heredoc early and inject further variables.
 */
export function fileCommandEntry(name: string, value: string): string {
  if (!NAME_RE.test(name)) throw new InvalidArgumentError('name', `${JSON.stringify(name)} is not a valid variable name`);
  let delimiter = `ghadelimiter_${randomUUID()}`;
  while (value.includes(delimiter)) delimiter = `ghadelimiter_${randomUUID()}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

/** Appends entries to the file the runner named in `variable` (e.g. GITHUB_ENV). */
export function appendFileCommand(env: Env, variable: 'GITHUB_ENV' | 'GITHUB_STATE' | 'GITHUB_OUTPUT', entries: Readonly<Record<string, string>>): void {
  const file = env[variable];
  if (!file) throw new InvalidArgumentError(variable, 'not set; this action runs on GitHub Actions only');
  appendFileSync(file, Object.entries(entries).map(([name, value]) => fileCommandEntry(name, value)).join(''));
}
