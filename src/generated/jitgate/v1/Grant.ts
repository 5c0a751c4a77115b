// Original file: proto/jitgate/v1/types.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Credentials handed to the requesting step. Secret: never logged, never stored by the client.
 */
export interface Grant {
  'grantId'?: (string);
  /**
   * Nonce that authorises Release of this grant (not a Vault secret).
   */
  'releaseToken'?: (string);
  /**
   * Environment variable name → value.
   */
  'credentials'?: ({[key: string]: string});
  /**
   * Wall-clock epoch milliseconds at which the credentials die at the latest.
   */
  'expiresAtMs'?: (number | string | Long);
  'ttlSeconds'?: (number);
}

/**
 * Credentials handed to the requesting step. Secret: never logged, never stored by the client.
 */
export interface Grant__Output {
  'grantId': (string);
  /**
   * Nonce that authorises Release of this grant (not a Vault secret).
   */
  'releaseToken': (string);
  /**
   * Environment variable name → value.
   */
  'credentials': ({[key: string]: string});
  /**
   * Wall-clock epoch milliseconds at which the credentials die at the latest.
   */
  'expiresAtMs': (string);
  'ttlSeconds': (number);
}
