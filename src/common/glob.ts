/**
 * Glob patterns for policy matching. Deliberately small: `*` stays inside one `/`-separated segment
 * (so `refs/heads/*` cannot reach `refs/heads/a/b`), `**` crosses segments, and every other character
 * is literal. There is no `?`, no character class and no brace expansion: fewer ways to write a rule
 * that matches more than its author meant.
 */

import { hasControlChars } from './text.js';

/** True when the text holds a newline or another control character; such values never match. */
export const hasControlChar = hasControlChars;

/** True when the pattern uses a wildcard (as opposed to naming one value literally). */
export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/** Compiles a pattern into a full-string matcher. */
export function compileGlob(pattern: string): (value: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern.charAt(i);
    if (ch === '*') {
      if (pattern.charAt(i + 1) === '*') {
        source += '.*';
        while (pattern.charAt(i + 1) === '*') i++;
      } else {
        source += '[^/]*';
      }
    } else {
      source += ch.replace(/[\\^$.|?+()[\]{}/-]/g, '\\$&');
    }
  }
  // `s` so that `.*` would also span a newline if one slipped in; values with control characters
  // are refused before matching anyway.
  const re = new RegExp(`^${source}$`, 's');
  return (value) => !hasControlChar(value) && re.test(value);
}

/** `*` within a `/`-segment, `**` across; everything else literal; full-string match. */
export function matchGlob(pattern: string, value: string): boolean {
  return compileGlob(pattern)(value);
}
