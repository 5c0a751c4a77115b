// Original file: proto/jitgate/v1/types.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A grant made without quorum by an on-call approver, and its later review.
 */
export interface BreakGlass {
  'subject'?: (string);
  'name'?: (string);
  'trust'?: (string);
  'reason'?: (string);
  'atMs'?: (number | string | Long);
  /**
   * Empty until reviewed.
   */
  'reviewedBy'?: (string);
  /**
   * "ok" or "concern"; empty until reviewed.
   */
  'reviewVerdict'?: (string);
  'reviewNote'?: (string);
  'reviewedAtMs'?: (number | string | Long);
  'reviewerSubject'?: (string);
  'reviewerTrust'?: (string);
}

/**
 * A grant made without quorum by an on-call approver, and its later review.
 */
export interface BreakGlass__Output {
  'subject': (string);
  'name': (string);
  'trust': (string);
  'reason': (string);
  'atMs': (string);
  /**
   * Empty until reviewed.
   */
  'reviewedBy': (string);
  /**
   * "ok" or "concern"; empty until reviewed.
   */
  'reviewVerdict': (string);
  'reviewNote': (string);
  'reviewedAtMs': (string);
  'reviewerSubject': (string);
  'reviewerTrust': (string);
}
