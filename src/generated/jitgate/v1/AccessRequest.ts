// Original file: proto/jitgate/v1/access.proto

import type { ClaimedContext as _jitgate_v1_ClaimedContext, ClaimedContext__Output as _jitgate_v1_ClaimedContext__Output } from '../../jitgate/v1/ClaimedContext.js';

export interface AccessRequest {
  /**
   * Resource name from the daemon's configuration, e.g. "prod-db".
   */
  'resource'?: (string);
  /**
   * Why the step needs it; shown to approvers. At most 1024 characters.
   */
  'reason'?: (string);
  /**
   * Requested TTL as a duration ("60s", "5m"); empty means the resource's default.
   */
  'ttl'?: (string);
  /**
   * The CI's OIDC identity token; may be empty only in local trust mode.
   */
  'idToken'?: (string);
  /**
   * Context the client claims; compared with the verified token, never trusted.
   */
  'context'?: (_jitgate_v1_ClaimedContext | null);
}

export interface AccessRequest__Output {
  /**
   * Resource name from the daemon's configuration, e.g. "prod-db".
   */
  'resource': (string);
  /**
   * Why the step needs it; shown to approvers. At most 1024 characters.
   */
  'reason': (string);
  /**
   * Requested TTL as a duration ("60s", "5m"); empty means the resource's default.
   */
  'ttl': (string);
  /**
   * The CI's OIDC identity token; may be empty only in local trust mode.
   */
  'idToken': (string);
  /**
   * Context the client claims; compared with the verified token, never trusted.
   */
  'context': (_jitgate_v1_ClaimedContext__Output | null);
}
