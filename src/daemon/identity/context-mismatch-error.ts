import { PermissionDeniedError } from '../../common/errors.js';
import { quoteForMessage } from './text-checks.js';

export type ComparedField = 'repository' | 'ref' | 'sha' | 'actor' | 'environment' | 'workflow';

export interface ContextMismatch {
  readonly field: ComparedField;
  /** What the client said. */
  readonly claimed: string;
  /** What the verified token says; empty when the token does not carry the field. */
  readonly verified: string;
}

/**
 * The client claimed a context the verified token contradicts. A denial, not an identity failure:
 * the caller is who the token says, but asked under a false label. The gate audits `mismatches`.
 */
export class ContextMismatchError extends PermissionDeniedError {
  readonly mismatches: readonly ContextMismatch[];

  constructor(mismatches: readonly ContextMismatch[]) {
    const parts = mismatches.map(
      (m) => `${m.field} claimed ${quoteForMessage(m.claimed)}, token says ${quoteForMessage(m.verified)}`,
    );
    super(`context mismatch: ${parts.join('; ')}`);
    this.mismatches = mismatches;
  }
}
