// Original file: proto/jitgate/v1/types.proto

/**
 * Lifecycle of an access request, and the state an AccessUpdate reports.
 * A granted request ends RELEASED; one that never got credentials ends DENIED or EXPIRED.
 */
export const State = {
  STATE_UNSPECIFIED: 'STATE_UNSPECIFIED',
  PENDING: 'PENDING',
  APPROVED: 'APPROVED',
  GRANTED: 'GRANTED',
  RELEASED: 'RELEASED',
  DENIED: 'DENIED',
  EXPIRED: 'EXPIRED',
} as const;

/**
 * Lifecycle of an access request, and the state an AccessUpdate reports.
 * A granted request ends RELEASED; one that never got credentials ends DENIED or EXPIRED.
 */
export type State =
  | 'STATE_UNSPECIFIED'
  | 0
  | 'PENDING'
  | 1
  | 'APPROVED'
  | 2
  | 'GRANTED'
  | 3
  | 'RELEASED'
  | 4
  | 'DENIED'
  | 5
  | 'EXPIRED'
  | 6

/**
 * Lifecycle of an access request, and the state an AccessUpdate reports.
 * A granted request ends RELEASED; one that never got credentials ends DENIED or EXPIRED.
 */
export type State__Output = typeof State[keyof typeof State]
