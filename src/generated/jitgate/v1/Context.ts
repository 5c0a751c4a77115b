// Original file: proto/jitgate/v1/types.proto


/**
 * The context a request was judged on. With trust "oidc" every field comes from a verified CI
 * token; with trust "local" (development only) it is what the client asserted.
 */
export interface Context {
  /**
   * "local" or "oidc".
   */
  'trust'?: (string);
  /**
   * Issuer URL of the verified token; empty in local mode.
   */
  'issuer'?: (string);
  'repository'?: (string);
  /**
   * Numeric repository id as a decimal string; empty when unknown.
   */
  'repositoryId'?: (string);
  'repositoryOwnerId'?: (string);
  /**
   * Always a full ref: "refs/heads/main", "refs/tags/v1".
   */
  'ref'?: (string);
  /**
   * "branch" or "tag" where the issuer says so.
   */
  'refType'?: (string);
  'sha'?: (string);
  'actor'?: (string);
  'actorId'?: (string);
  /**
   * Commit author where known; never allowed to approve.
   */
  'commitAuthor'?: (string);
  'environment'?: (string);
  'workflow'?: (string);
  'event'?: (string);
  'runnerEnvironment'?: (string);
  'runId'?: (string);
  'runAttempt'?: (string);
  /**
   * Link to the CI run, for approvers.
   */
  'runUrl'?: (string);
  /**
   * The job runs code from a fork of `repository`.
   */
  'fork'?: (boolean);
  /**
   * The repository the code comes from, when it differs from `repository`.
   */
  'sourceRepository'?: (string);
}

/**
 * The context a request was judged on. With trust "oidc" every field comes from a verified CI
 * token; with trust "local" (development only) it is what the client asserted.
 */
export interface Context__Output {
  /**
   * "local" or "oidc".
   */
  'trust': (string);
  /**
   * Issuer URL of the verified token; empty in local mode.
   */
  'issuer': (string);
  'repository': (string);
  /**
   * Numeric repository id as a decimal string; empty when unknown.
   */
  'repositoryId': (string);
  'repositoryOwnerId': (string);
  /**
   * Always a full ref: "refs/heads/main", "refs/tags/v1".
   */
  'ref': (string);
  /**
   * "branch" or "tag" where the issuer says so.
   */
  'refType': (string);
  'sha': (string);
  'actor': (string);
  'actorId': (string);
  /**
   * Commit author where known; never allowed to approve.
   */
  'commitAuthor': (string);
  'environment': (string);
  'workflow': (string);
  'event': (string);
  'runnerEnvironment': (string);
  'runId': (string);
  'runAttempt': (string);
  /**
   * Link to the CI run, for approvers.
   */
  'runUrl': (string);
  /**
   * The job runs code from a fork of `repository`.
   */
  'fork': (boolean);
  /**
   * The repository the code comes from, when it differs from `repository`.
   */
  'sourceRepository': (string);
}
