/**
 * Names that are keys of Object.prototype (`constructor`, `toString`, `hasOwnProperty`, ...) or
 * reach a prototype (`__proto__`, `prototype`) are refused wherever the config names something:
 * resources, groups and the approver names notifiers map to. Lookups are prototype-safe anyway;
 * refusing them keeps such a name from meaning one thing to the daemon and another to any tool
 * or script that reads the same file. Runs on the document as written: the schema drops a
 * `__proto__` key silently, so it would never reach a later check.
 */
import { isPrototypeKey } from '../../common/own-keys.js';
import type { ProblemList } from './config-problem.js';

const MESSAGE = 'is a reserved name (a key of every JavaScript object): choose another name';

const mapping = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

function checkKeys(section: string, value: unknown, problems: ProblemList): void {
  for (const name of Object.keys(mapping(value) ?? {})) {
    if (isPrototypeKey(name)) problems.add([section, name], MESSAGE);
  }
}

function checkNotifier(entry: unknown, index: number, problems: ProblemList): void {
  const at = ['notifiers', index];
  const users = mapping(mapping(mapping(entry)?.['slack'])?.['users']);
  for (const [user, approver] of Object.entries(users ?? {})) {
    if (isPrototypeKey(user)) problems.add([...at, 'slack', 'users', user], MESSAGE);
    else if (typeof approver === 'string' && isPrototypeKey(approver)) problems.add([...at, 'slack', 'users', user], MESSAGE);
  }
  const identity = mapping(mapping(mapping(entry)?.['webhook'])?.['decisions'])?.['identity'];
  if (typeof identity === 'string' && isPrototypeKey(identity)) problems.add([...at, 'webhook', 'decisions', 'identity'], MESSAGE);
}

/** Reports every reserved name in `doc` (the parsed YAML, before the schema) at its key path. */
export function checkReservedNames(doc: Record<string, unknown>, problems: ProblemList): void {
  checkKeys('resources', doc['resources'], problems);
  checkKeys('groups', doc['groups'], problems);
  const notifiers = doc['notifiers'];
  if (Array.isArray(notifiers)) notifiers.forEach((entry: unknown, i) => { checkNotifier(entry, i, problems); });
}
