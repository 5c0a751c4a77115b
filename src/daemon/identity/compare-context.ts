import type { ClaimedContext, RequestContext } from '../../model/context.js';
import { ContextMismatchError, type ComparedField, type ContextMismatch } from './context-mismatch-error.js';

const COMPARED_FIELDS: readonly ComparedField[] = ['repository', 'ref', 'sha', 'actor', 'environment', 'workflow'];

/**
 * In a GitHub reusable workflow the job's own variables name the caller (`GITHUB_WORKFLOW_REF` is
 * the token's `workflow_ref`) while the job is defined by the callee (`job_workflow_ref`, which
 * becomes `context.workflow`). Either is a true statement about the run; the claim is only a label
 * checked against the token, and the policy still sees the verified context unchanged.
 */
function workflowClaimHolds(verified: RequestContext, said: string): boolean {
  return said === (verified.workflow ?? '') || said === verified.workflowRef || said === verified.jobWorkflowRef;
}

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
    if (field === 'workflow' ? !workflowClaimHolds(verified, said) : said !== actual) mismatches.push({ field, claimed: said, verified: actual });
  }
  if (mismatches.length > 0) throw new ContextMismatchError(mismatches);
}
