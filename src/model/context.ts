/**
 * The context a request is judged on. With `trust: 'oidc'` every field comes from a verified CI
 * token; with `trust: 'local'` (development only) it is whatever the client asserted.
 */
export type TrustMode = 'local' | 'oidc';

export interface RequestContext {
  readonly trust: TrustMode;
  /** Issuer URL of the verified token; absent in local mode. */
  readonly issuer?: string;
  /** "owner/name" (GitHub) or "group/project" (GitLab). */
  readonly repository: string;
  /** Numeric id as a decimal string: survives renames, and a deleted-and-recreated name gets a new one. */
  readonly repositoryId?: string;
  /** GitHub `repository_owner_id`, GitLab `namespace_id`. */
  readonly repositoryOwnerId?: string;
  /** GitLab `namespace_id` only: the key a rule uses to say "this GitLab group" and nothing else. */
  readonly namespaceId?: string;
  /** Always a full ref: `refs/heads/main`, `refs/tags/v1`, `refs/pull/7/merge`. */
  readonly ref: string;
  /** `branch` or `tag` where the issuer says so. */
  readonly refType?: string;
  readonly sha: string;
  readonly actor: string;
  readonly actorId?: string;
  /** Commit author where known; like the actor, never allowed to approve. */
  readonly commitAuthor?: string;
  readonly environment: string;
  /** The workflow that runs the job (GitHub `job_workflow_ref`, else `workflow_ref`). */
  readonly workflow?: string;
  /** GitHub `workflow_ref`: the top-level workflow of the run (for a reusable workflow, its caller). */
  readonly workflowRef?: string;
  /** GitHub `job_workflow_ref`: the workflow file that defines the job (for a reusable workflow, the callee). */
  readonly jobWorkflowRef?: string;
  readonly event?: string;
  readonly runnerEnvironment?: string;
  readonly runId?: string;
  readonly runAttempt?: string;
  /** Link to the CI run, for approvers. */
  readonly runUrl?: string;
  /** The job runs code from a fork of `repository`; fork contexts match only rules that say `fork: true`. */
  readonly fork: boolean;
  /** The repository the code comes from, when it differs from `repository` (forks). */
  readonly sourceRepository?: string;
}

/** The fields a client may send alongside its token; each is only compared with the verified value. */
export interface ClaimedContext {
  readonly repository?: string;
  readonly ref?: string;
  readonly sha?: string;
  readonly actor?: string;
  readonly environment?: string;
  readonly workflow?: string;
  /** GitHub `workflow_ref`: the top-level workflow of the run (for a reusable workflow, its caller). */
  readonly workflowRef?: string;
  /** GitHub `job_workflow_ref`: the workflow file that defines the job (for a reusable workflow, the callee). */
  readonly jobWorkflowRef?: string;
}

/** Who is approving or denying. */
export interface ApproverIdentity {
  /** Stable identifier (IdP `sub`, or the local name). Quorum counts distinct subjects. */
  readonly subject: string;
  /** Human-readable name for messages and audit. */
  readonly name: string;
  /** Group names, without the `group:` prefix. */
  readonly groups: readonly string[];
  /** Other names the same person is known by (e.g. CI login), used for the no-self-approval check. */
  readonly aliases: readonly string[];
  readonly trust: 'local' | 'idp' | 'slack' | 'webhook';
  /** When they last signed in at the IdP (its `auth_time`), wall-clock ms; only IdP approvers may have it. */
  readonly authTime?: number;
}
