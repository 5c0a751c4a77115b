import { IdentityError } from '../../common/errors.js';
import { APPROVER_TOKEN_HEADER } from './approver-token-header.js';

const BEARER_RE = /^bearer\s+(\S+)\s*$/i;

/** The bearer token in `authorization`, or undefined when none is presented. */
export function bearerToken(metadata: Readonly<Record<string, string>>): string | undefined {
  const header = metadata[APPROVER_TOKEN_HEADER];
  if (header === undefined || header.trim() === '') return undefined;
  const match = BEARER_RE.exec(header);
  if (match?.[1] === undefined) throw new IdentityError('malformed authorization header: expected "Bearer <IdP token>"');
  return match[1];
}
