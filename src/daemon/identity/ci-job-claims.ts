import type { JWTPayload } from 'jose';
import { IdentityError } from '../../common/errors.js';

/**
 * Claims that only a CI job's token carries: the ones jitgate itself reads from GitHub Actions and
 * GitLab CI tokens (claim-mappings.ts), plus their other job-only claims. No OIDC sign-in (ID)
 * token has them, so a token carrying any of them is a job's token, whatever its audience says:
 * a GitLab job chooses its `id_tokens` audience freely, and could ask for the approvers' one.
 */
export const CI_JOB_CLAIMS: readonly string[] = [
  // GitHub Actions
  'job_workflow_ref',
  'job_workflow_sha',
  'workflow_ref',
  'workflow_sha',
  'repository',
  'repository_id',
  'repository_owner_id',
  'run_id',
  'run_attempt',
  'run_number',
  'runner_environment',
  'event_name',
  'ref',
  'ref_type',
  'sha',
  // GitLab CI
  'pipeline_id',
  'pipeline_source',
  'project_path',
  'project_id',
  'namespace_id',
  'namespace_path',
  'job_id',
  'job_project_path',
  'job_project_id',
  'ref_path',
  'ref_protected',
  'ci_config_ref_uri',
  'ci_config_sha',
  'runner_id',
  'deployment_tier',
];

/** Present at all (any value, even null) is enough: a sign-in token has no business naming a pipeline. */
export function refuseCiJobClaims(payload: JWTPayload): void {
  const found = CI_JOB_CLAIMS.find((claim) => Object.hasOwn(payload, claim));
  if (found !== undefined) {
    throw new IdentityError(`approver token carries CI job claim "${found}": a CI job's token is not an approver's sign-in`);
  }
}
