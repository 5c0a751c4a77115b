/**
 * Shape checks shared by the local and OIDC resolvers. Values end up in policy matching, audit
 * records and approver messages, so anything that could forge a line (control characters,
 * newlines, Unicode line separators) or a bare ref is refused at the door.
 */

const SHA_RE = /^[0-9a-fA-F]{7,64}$/;

/** Longest context value accepted; real refs and repository paths are far shorter. */
export const MAX_CONTEXT_VALUE_LENGTH = 1024;

export { hasControlChars } from '../../common/text.js';

export function isFullRef(value: string): boolean {
  return value.startsWith('refs/') && value.length > 'refs/'.length && !value.split('/').some((part) => part === '');
}

export function isSha(value: string): boolean {
  return SHA_RE.test(value);
}

/** Renders a value for a one-line message: quoted, escaped, and cut short. */
export function quoteForMessage(value: string, max = 200): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(cut);
}
