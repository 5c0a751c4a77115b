// Original file: proto/jitgate/v1/types.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One approver's decision on a request.
 */
export interface Approval {
  /**
   * Stable identity (IdP subject or local name); quorum counts distinct subjects.
   */
  'subject'?: (string);
  /**
   * Human-readable name.
   */
  'name'?: (string);
  /**
   * How the identity was established: "local", "idp", "slack" or "webhook".
   */
  'trust'?: (string);
  /**
   * "approve" or "deny".
   */
  'decision'?: (string);
  /**
   * Approver's comment or denial reason; may be empty.
   */
  'comment'?: (string);
  /**
   * Wall-clock epoch milliseconds.
   */
  'atMs'?: (number | string | Long);
  /**
   * Where the decision entered jitgated, set by the daemon: "cli" (ApprovalService: CLI and SDK),
   * "web", "slack", "webhook"; "unknown" for decisions stored before channels were recorded.
   */
  'channel'?: (string);
}

/**
 * One approver's decision on a request.
 */
export interface Approval__Output {
  /**
   * Stable identity (IdP subject or local name); quorum counts distinct subjects.
   */
  'subject': (string);
  /**
   * Human-readable name.
   */
  'name': (string);
  /**
   * How the identity was established: "local", "idp", "slack" or "webhook".
   */
  'trust': (string);
  /**
   * "approve" or "deny".
   */
  'decision': (string);
  /**
   * Approver's comment or denial reason; may be empty.
   */
  'comment': (string);
  /**
   * Wall-clock epoch milliseconds.
   */
  'atMs': (string);
  /**
   * Where the decision entered jitgated, set by the daemon: "cli" (ApprovalService: CLI and SDK),
   * "web", "slack", "webhook"; "unknown" for decisions stored before channels were recorded.
   */
  'channel': (string);
}
