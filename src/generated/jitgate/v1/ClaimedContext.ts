// Original file: proto/jitgate/v1/types.proto


/**
 * The context fields a client may send alongside its token. The daemon only compares them with
 * the verified values (a mismatch is a denial); it never trusts them, except in local trust mode.
 */
export interface ClaimedContext {
  /**
   * "owner/name" (GitHub) or "group/project" (GitLab).
   */
  'repository'?: (string);
  /**
   * Full ref, e.g. "refs/heads/main".
   */
  'ref'?: (string);
  /**
   * Commit SHA.
   */
  'sha'?: (string);
  /**
   * CI login that started the job.
   */
  'actor'?: (string);
  /**
   * Deployment environment, e.g. "production".
   */
  'environment'?: (string);
  /**
   * Workflow reference.
   */
  'workflow'?: (string);
}

/**
 * The context fields a client may send alongside its token. The daemon only compares them with
 * the verified values (a mismatch is a denial); it never trusts them, except in local trust mode.
 */
export interface ClaimedContext__Output {
  /**
   * "owner/name" (GitHub) or "group/project" (GitLab).
   */
  'repository': (string);
  /**
   * Full ref, e.g. "refs/heads/main".
   */
  'ref': (string);
  /**
   * Commit SHA.
   */
  'sha': (string);
  /**
   * CI login that started the job.
   */
  'actor': (string);
  /**
   * Deployment environment, e.g. "production".
   */
  'environment': (string);
  /**
   * Workflow reference.
   */
  'workflow': (string);
}
