/**
 * The checks that need nothing but the file's text: YAML syntax, inline secrets, the schema and
 * the cross-references. Every problem is collected, each with its key path.
 */
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { errorMessage } from '../../common/errors.js';
import { ProblemList } from './config-problem.js';
import { sectionsOfInvalid, sectionsOfValid, type ConfigSections } from './config-sections.js';
import { crossCheck } from './cross-checks.js';
import { findInlineSecrets } from './inline-secrets.js';
import { checkReservedNames } from './reserved-names.js';
import { configSchema } from './schema.js';
import { deepFreeze, toConfig } from './to-config.js';
import type { Config } from './types.js';
import { reportIssues } from './zod-issues.js';

export interface ParseOptions {
  /** Names the file in messages (a path, or e.g. `test.yaml`). */
  readonly source: string;
  /** Relative paths in the file resolve against this directory. */
  readonly baseDir: string;
}

export interface DocumentCheck {
  /** Present only when there is no problem. Deep-frozen. */
  readonly config?: Config;
  /** What parsed, for the checks that come after (absent when the text is not a YAML mapping). */
  readonly sections?: ConfigSections;
  readonly problems: ProblemList;
}

/** The YAML as plain data, or undefined with the problem reported. */
function parseYaml(text: string, source: string, problems: ProblemList): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, strict: true });
  // Only the first error: after a syntax error the parser's later complaints are mostly echoes.
  const problem = doc.errors[0];
  if (problem) {
    const at = problem.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : 'an unknown position';
    // Only the first line: the rest is an excerpt of the file, which may hold more than it should.
    const what = (problem.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    problems.add('', `${source}: YAML syntax error at ${where}: ${what}`);
    return undefined;
  }
  let data: unknown;
  try {
    // A low alias budget: a config never needs many, and "billion laughs" documents need a lot.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.add('', `${source}: ${errorMessage(err)}`);
    return undefined;
  }
  // An alias inside the node it names (`a: &a [*a]`) makes a cycle every later check would recurse into forever.
  const cycle = recursiveAlias(data, [], new Set());
  if (cycle !== undefined) {
    problems.add(cycle, 'is an alias of a node that contains it (a recursive alias)');
    return undefined;
  }
  return data;
}

/** The key path of the first value that is one of its own ancestors, if any. */
function recursiveAlias(value: unknown, path: readonly PropertyKey[], ancestors: Set<object>): PropertyKey[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (ancestors.has(value)) return [...path];
  ancestors.add(value);
  const entries: [PropertyKey, unknown][] = Array.isArray(value) ? value.map((v: unknown, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const found = recursiveAlias(child, [...path, key], ancestors);
    if (found !== undefined) return found;
  }
  ancestors.delete(value);
  return undefined;
}

/** Runs every document check on `text`; the Config is built only when nothing was found. */
export function checkDocument(text: string, options: ParseOptions): DocumentCheck {
  const problems = new ProblemList();
  const doc = parseYaml(text, options.source, problems);
  if (!problems.empty) return { problems };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.add('', `${options.source}: the configuration must be a YAML mapping of keys to values`);
    return { problems };
  }
  findInlineSecrets(doc, problems);
  checkReservedNames(doc as Record<string, unknown>, problems);
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) reportIssues(parsed.error, problems);
  const sections = parsed.success ? sectionsOfValid(parsed.data) : sectionsOfInvalid(doc as Record<string, unknown>);
  crossCheck(sections, doc, problems);
  if (!parsed.success || problems.items.length > 0) return { sections, problems };
  return { config: deepFreeze(toConfig(parsed.data, resolve(options.baseDir))), sections, problems };
}
