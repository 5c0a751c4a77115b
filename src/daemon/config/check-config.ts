/**
 * The one configuration phase. Everything the daemon would refuse at start-up is checked here
 * and every problem is returned, each with its key path: the document (YAML, inline secrets,
 * schema, cross-references), the notifier and web page settings, and the files the config names
 * (secret files through the secret-file reader, TLS files parsed as PEM). `jitgated check-config`
 * prints exactly these problems; the daemon refuses to start on any of them, and what it starts
 * from is the CheckedConfig returned here, so nothing downstream validates again.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../../common/errors.js';
import { checkDocument, type ParseOptions } from './config-document.js';
import { ProblemList, type ConfigProblem } from './config-problem.js';
import { checkFiles } from './file-checks.js';
import { readConfigText } from './load-config.js';
import { checkNotifiers } from './notifier-settings.js';
import { resolveSocketGroup } from './socket-group.js';
import { deepFreeze, resolveFileKeys } from './to-config.js';
import type { CheckedConfig } from './types.js';
import { checkHttpNeeds, checkWebPages, resolveWebPages } from './web-settings.js';

export interface ConfigCheck {
  /** Present only when there is no problem. Deep-frozen. */
  readonly config?: CheckedConfig;
  /** Every problem found, in file order per check. */
  readonly problems: readonly ConfigProblem[];
}

/** Checks a config file's text; `options.baseDir` anchors relative paths (for the file checks too). */
export async function checkConfigText(text: string, options: ParseOptions): Promise<ConfigCheck> {
  const document = checkDocument(text, options);
  const { problems, sections } = document;
  if (sections === undefined) return { problems: problems.items };
  const baseDir = resolve(options.baseDir);
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDir, path));
  const notifiers = checkNotifiers(
    sections.notifiers.map((entry) => resolveFileKeys(entry, at)),
    problems,
  );
  checkHttpNeeds(sections, notifiers, problems);
  checkWebPages(sections, problems);
  await checkFiles(sections, notifiers, baseDir, problems);
  const socketGroup = sections.listen?.socket_group;
  const socketGid = socketGroup === undefined ? undefined : await resolveSocketGroup(socketGroup, problems);
  if (!problems.empty || document.config === undefined) return { problems: problems.items };
  const webPages = resolveWebPages(document.config);
  const config: CheckedConfig = {
    ...document.config,
    listen: { ...document.config.listen, ...(socketGid !== undefined && { socketGid }) },
    notifiers: notifiers.map(([, entry]) => entry),
    ...(webPages && { webPages }),
  };
  return { config: deepFreeze(config), problems: [] };
}

/** Reads and checks a config file; relative paths in it resolve against the file's directory. */
export async function checkConfigFile(path: string): Promise<ConfigCheck> {
  let text: string;
  try {
    text = await readConfigText(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = new ProblemList();
    problems.addError(err);
    return { problems: problems.items };
  }
  return checkConfigText(text, { source: path, baseDir: dirname(resolve(path)) });
}
