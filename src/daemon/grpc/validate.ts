import { hasControlChars } from '../../common/text.js';
import { stateToStatus } from '../../model/wire-state.js';
import { parseDuration } from '../../common/duration.js';
import { InvalidArgumentError } from '../../common/errors.js';
import type { AccessInput, RequestStatus } from '../../model/request.js';
import type { AccessRequest__Output } from '../../generated/jitgate/v1/AccessRequest.js';
import type { State__Output } from '../../generated/jitgate/v1/State.js';

const RESOURCE_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const MAX_REASON_CHARS = 1024;
export const MAX_FIELD_CHARS = 1024;
export const MAX_ID_CHARS = 128;
export const MAX_ID_TOKEN_CHARS = 16_384;

/** Rejects control characters and over-long values; returns the value unchanged. */
export function checkText(field: string, value: string, max = MAX_FIELD_CHARS): string {
  if (value.length > max) throw new InvalidArgumentError(field, `longer than ${max} characters`);
  if (hasControlChars(value)) throw new InvalidArgumentError(field, 'must not contain control characters');
  return value;
}

function required(field: string, value: string, max = MAX_ID_CHARS): string {
  if (value === '') throw new InvalidArgumentError(field, 'is required');
  return checkText(field, value, max);
}

export function checkResource(value: string): string {
  if (!RESOURCE_RE.test(value)) throw new InvalidArgumentError('resource', 'must match [a-z0-9][a-z0-9._-]{0,62}');
  return value;
}

const CLAIMED_FIELDS = ['repository', 'ref', 'sha', 'actor', 'environment', 'workflow'] as const;

/** Turns a wire AccessRequest into the gate's input, naming the first bad field. */
export function toAccessInput(message: AccessRequest__Output): AccessInput {
  const resource = checkResource(message.resource);
  const reason = checkText('reason', message.reason, MAX_REASON_CHARS);
  const ttlMs = message.ttl === '' ? undefined : parseDuration(message.ttl, 'ttl');
  const idToken = message.idToken === '' ? undefined : checkText('id_token', message.idToken, MAX_ID_TOKEN_CHARS);
  const claimed: Record<string, string> = {};
  for (const key of CLAIMED_FIELDS) {
    const value = message.context?.[key] ?? '';
    if (value !== '') claimed[key] = checkText(`context.${key}`, value);
  }
  return {
    resource,
    reason,
    claimed,
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(idToken === undefined ? {} : { idToken }),
  };
}

export function checkRequestId(value: string): string {
  return required('id', value);
}

export function checkRelease(grantId: string, releaseToken: string): { grantId: string; releaseToken: string } {
  return { grantId: required('grant_id', grantId), releaseToken: required('release_token', releaseToken, 512) };
}

export function checkComment(value: string): string | undefined {
  return value === '' ? undefined : checkText('comment', value, MAX_REASON_CHARS);
}

export function checkDenyReason(value: string): string {
  return required('reason', value, MAX_REASON_CHARS);
}

export function checkBreakGlassReason(value: string): string {
  return required('reason', value, MAX_REASON_CHARS);
}

export function checkReview(verdict: string, note: string): { verdict: 'ok' | 'concern'; note?: string } {
  if (verdict !== 'ok' && verdict !== 'concern') throw new InvalidArgumentError('verdict', 'must be "ok" or "concern"');
  return { verdict, ...(note !== '' && { note: checkText('note', note, MAX_REASON_CHARS) }) };
}

export function toStatuses(states: readonly State__Output[]): RequestStatus[] {
  return states.map((state, i) => {
    const status = stateToStatus(state);
    if (!status) throw new InvalidArgumentError(`statuses[${i}]`, `unknown state ${state}`);
    return status;
  });
}
