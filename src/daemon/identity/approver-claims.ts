import type { JWTPayload } from 'jose';
import { IdentityError } from '../../common/errors.js';
import { ownValue } from '../../common/own-keys.js';
import { hasControlChars } from './text-checks.js';

const MAX_NAME_LENGTH = 256;
const MAX_GROUPS = 256;

export function isName(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_NAME_LENGTH && !hasControlChars(value);
}

/** An optional name-like claim: absent is fine, present but odd is refused (it may be an attempt to dodge a check). */
export function optionalName(payload: JWTPayload, claim: string): string | undefined {
  const value = ownValue(payload, claim);
  if (value === undefined || value === null) return undefined;
  if (!isName(value)) throw new IdentityError(`approver token claim "${claim}" is invalid`);
  return value;
}

export function readGroups(payload: JWTPayload, claim: string): string[] {
  const value = ownValue(payload, claim);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > MAX_GROUPS || !value.every(isName)) {
    throw new IdentityError(`approver token claim "${claim}" must be a list of group names`);
  }
  return value;
}
