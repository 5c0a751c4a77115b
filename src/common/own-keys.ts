/**
 * Name-keyed tables (resources, groups, env maps, approver maps, token claims). A plain object
 * answers `constructor`, `toString` or `__proto__` from Object.prototype, so a name nobody
 * configured would look found: tables built here have no prototype, and `ownValue` reads only
 * an object's own keys, whatever built it.
 */

/** Keys a plain object inherits, plus the two that reach prototypes; never valid as a configured name. */
export function isPrototypeKey(name: string): boolean {
  return name === '__proto__' || name === 'prototype' || name in Object.prototype;
}

/** A null-prototype record of `entries`: a key `__proto__` is an ordinary own key here. */
export function ownRecord<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) out[key] = value;
  return out;
}

/** `record[key]` if `key` is an own key of `record`, else `undefined` (never an inherited member). */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
