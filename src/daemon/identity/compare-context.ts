import type { ClaimedContext, RequestContext } from '../../model/context.js';
import { ContextMismatchError, type ComparedField, type ContextMismatch } from './context-mismatch-error.js';

const COMPARED_FIELDS: readonly ComparedField[] = ['repository', 'ref', 'sha', 'actor', 'environment', 'workflow'];

/**
 * Checks every field the client claimed against the verified context. An empty string counts as
 * "not claimed" because protobuf cannot tell it apart from an absent field. Comparison is exact:
 * `main` is not `refs/heads/main`, and an upper-case sha is not the token's lower-case one.
 */
export function assertClaimsMatch(verified: RequestContext, claimed: ClaimedContext): void {
  const mismatches: ContextMismatch[] = [];
  for (const field of COMPARED_FIELDS) {
    const said = claimed[field];
    if (said === undefined || said === '') continue;
    const actual = verified[field] ?? '';
    if (said !== actual) mismatches.push({ field, claimed: said, verified: actual });
  }
  if (mismatches.length > 0) throw new ContextMismatchError(mismatches);
}
