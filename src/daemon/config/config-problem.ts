import { ConfigError } from '../../common/errors.js';
import { formatPath } from './config-path.js';

/** One thing wrong with a configuration file, at a key path (`''` for the file as a whole). */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** How a problem is shown: `notifiers[0].slack.channel: must not be empty`. */
export function problemText(problem: ConfigProblem): string {
  return problem.path === '' ? problem.message : `${problem.path}: ${problem.message}`;
}

/** The first problem as the ConfigError callers that stop at one problem throw. */
export function firstProblemError(problems: readonly ConfigProblem[]): ConfigError {
  const first = problems[0];
  return first ? new ConfigError(first.path, first.message) : new ConfigError('', 'invalid configuration');
}

/**
 * Collects problems in the order found. One mistake often trips two checks at the same key (an
 * inline `token` is both an inline secret and an unknown key): only the first one is kept.
 */
export class ProblemList {
  readonly #items: ConfigProblem[] = [];

  get items(): readonly ConfigProblem[] {
    return this.#items;
  }

  get empty(): boolean {
    return this.#items.length === 0;
  }

  add(path: readonly PropertyKey[] | string, message: string): void {
    const at = typeof path === 'string' ? path : formatPath(path);
    if (this.#items.some((p) => p.path === at)) return;
    this.#items.push({ path: at, message });
  }

  /** Records a ConfigError thrown by a reader (secret files, PEM files). */
  addError(err: ConfigError): void {
    const prefix = err.path === '' ? '' : `${err.path}: `;
    this.add(err.path, err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message);
  }
}
